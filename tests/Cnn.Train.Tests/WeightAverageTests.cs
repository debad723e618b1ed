using Cnn.Train.Training;
using static TorchSharp.torch;

namespace Cnn.Train.Tests;

public class WeightAverageTests
{
    [Fact]
    public void Each_update_moves_the_average_towards_the_weights_by_one_minus_the_ramped_decay()
    {
        using var weights = tensor(new[] { 1f, 2f, -4f });
        using var average = new WeightAverage(weights, 0.999);
        var expected = new[] { 1.0, 2.0, -4.0 };
        var targets = new[] { new[] { 3f, 0f, 4f }, new[] { -1f, 5f, 0f }, new[] { 2f, 2f, 2f } };
        for (int step = 1; step <= 3; step++)
        {
            using (var target = tensor(targets[step - 1]))
            {
                weights.copy_(target);
            }

            average.Update(step);
            // The ramp (1 + step) / (10 + step) is below 0.999 for the first thousands of steps.
            double decay = (1.0 + step) / (10.0 + step);
            for (int i = 0; i < 3; i++)
            {
                expected[i] = (decay * expected[i]) + ((1 - decay) * targets[step - 1][i]);
            }
        }

        using (average.Applied())
        {
            var applied = weights.data<float>().ToArray();
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(expected[i], applied[i], 1e-6);
            }
        }

        // Disposing the application puts the trained weights back.
        Assert.Equal(targets[2], weights.data<float>().ToArray());
        Assert.Equal(0.999, average.DecayAt(1_000_000));
        Assert.Equal(2.0 / 11.0, average.DecayAt(1));
    }

    [Fact]
    public void A_saved_average_loads_back_and_a_count_of_another_model_is_refused()
    {
        using var weights = tensor(new[] { 1f, 2f, 3f });
        using var average = new WeightAverage(weights, 0.5);
        using (var trained = tensor(new[] { 5f, 6f, 7f }))
        {
            weights.copy_(trained);
        }

        average.Update(1_000);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            average.Save(writer);
        }

        using var target = tensor(new[] { 0f, 0f, 0f });
        using var copy = new WeightAverage(target, 0.5);
        stream.Position = 0;
        copy.Load(new BinaryReader(stream));
        using (copy.Applied())
        {
            Assert.Equal(new[] { 3f, 4f, 5f }, target.data<float>().ToArray());
        }

        using var four = tensor(new[] { 0f, 0f, 0f, 0f });
        using var larger = new WeightAverage(four, 0.5);
        stream.Position = 0;
        var e = Assert.Throws<FormatException>(() => larger.Load(new BinaryReader(stream)));
        Assert.Equal("the weight average holds 3 values; expected 4, this model's parameter count", e.Message);
    }
}
