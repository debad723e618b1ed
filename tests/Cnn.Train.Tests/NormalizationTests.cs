using Cnn.Train.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Train.Tests;

public class NormalizationTests
{
    [Fact]
    public void Measures_each_channels_mean_and_population_std_of_the_bytes()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(9);
        // A strided view (channels moved) to check the non-contiguous path as well.
        var pixels = randint(0, 256, [7, 5, 6, 3], dtype: ScalarType.Byte, generator: generator).permute(0, 3, 1, 2);
        using var set = new ImageSet(pixels, zeros(7, dtype: ScalarType.Int64), ["a"]);

        var measured = Normalization.Measure(set);

        var scaled = pixels.to_type(ScalarType.Float64) / 255.0;
        var mean = scaled.mean([0L, 2, 3]).data<double>().ToArray();
        var std = scaled.std([0L, 2, 3], unbiased: false).data<double>().ToArray();
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(mean[c], measured.Mean[c], 1e-12);
            Assert.Equal(std[c], measured.Std[c], 1e-12);
        }
    }
}
