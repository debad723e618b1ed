using Cnn.Train.Models;
using TorchSharp;
using static TorchSharp.torch;

using Cnn.Tests;

namespace Cnn.Train.Tests;

public class LeNet5Tests
{
    [Theory]
    [InlineData(1.0, 6, 16, 400)]
    [InlineData(2.0, 12, 32, 800)]
    [InlineData(0.5, 3, 8, 200)]
    public void Width_scales_the_conv_channels_and_the_flattened_size_follows(double width, int c1, int c2, int flat)
    {
        var config = new LeNet5Config { Width = width };
        Assert.Equal((c1, c2, flat), (config.Conv1Channels, config.Conv2Channels, config.FlattenedSize));
        using var model = new LeNet5(config);
        using var output = model.call(zeros(3, 1, 28, 28));
        Assert.Equal([3L, 10], output.shape);
    }

    [Fact]
    public void Flattened_size_is_derived_for_other_image_sizes()
    {
        var config = new LeNet5Config { ImageSize = 32, NumClasses = 4 };
        // 32 → conv1 32 → pool 16 → conv2 12 → pool 6.
        Assert.Equal(16 * 6 * 6, config.FlattenedSize);
        using var model = new LeNet5(config);
        using var output = model.call(zeros(2, 1, 32, 32));
        Assert.Equal([2L, 4], output.shape);
    }

    [Fact]
    public void Module_names_are_the_state_dict_keys()
    {
        using var model = new LeNet5(new LeNet5Config());
        Assert.Equal(
            ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"],
            model.state_dict().Keys);
        Assert.Equal(61_706, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Wrong_input_shape_names_actual_and_expected()
    {
        using var model = new LeNet5(new LeNet5Config());
        var e = Assert.Throws<ArgumentException>(() => model.call(zeros(2, 3, 28, 28)));
        Assert.StartsWith("LeNet5 input must be [N, 1, 28, 28]; got [2, 3, 28, 28]", e.Message);
    }

    [Fact]
    public void Config_rejects_bad_values_with_the_value_in_the_message()
    {
        var width = Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5Config { Width = 0 });
        Assert.Contains("width must be a positive number", width.Message);
        Assert.Contains("Actual value was 0.", width.Message);
        var size = Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5Config { ImageSize = 11 });
        Assert.Contains("11×11 gives 0×0", size.Message);
        _ = new LeNet5Config { ImageSize = 12 };
    }

    [Fact]
    public void Same_seed_same_initial_weights()
    {
        torch.manual_seed(5);
        using var a = new LeNet5(new LeNet5Config());
        torch.manual_seed(5);
        using var b = new LeNet5(new LeNet5Config());
        foreach (var (key, value) in a.state_dict())
        {
            Assert.True(value.allclose(b.state_dict()[key], rtol: 0, atol: 0), key);
        }
    }
}
