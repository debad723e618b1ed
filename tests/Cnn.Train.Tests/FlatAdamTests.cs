using Cnn.Train.Models;
using Cnn.Train.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cnn.Train.Tests;

public class FlatAdamTests
{
    [Theory]
    [InlineData("lenet")]
    [InlineData("cifar")]
    public void Trains_bit_for_bit_as_TorchSharps_Adam(string net)
    {
        using var scope = NewDisposeScope();
        ModelConfig config = net == "lenet" ? new LeNet5Config() : new CifarCoarseNetConfig { Width = 0.125 };
        using var reference = Build(config);
        using var flat = Build(config);
        using var adam = optim.Adam(reference.parameters(), 3e-3);
        using var flatAdam = FlatAdam.Create(flat, 3e-3);
        using var generator = new Generator(11);

        for (int step = 0; step < 12; step++)
        {
            using var batch = NewDisposeScope();
            var x = randn([8, config.InChannels, config.ImageSize, config.ImageSize], generator: generator);
            var y = randint(0, config.NumClasses, [8], generator: generator);
            double lr = 3e-3 * (1 + (step % 3));
            foreach (var group in adam.ParamGroups)
            {
                group.LearningRate = lr;
            }

            foreach (var group in flatAdam.Optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            // The CIFAR net's dropout draws from the global generator: the same draws for both.
            torch.manual_seed(100 + step);
            adam.zero_grad();
            F.cross_entropy(reference.call(x), y).backward();
            adam.step();
            torch.manual_seed(100 + step);
            flatAdam.ZeroGrad();
            F.cross_entropy(flat.call(x), y).backward();
            flatAdam.Step();
        }

        foreach (var ((name, expected), (_, actual)) in reference.named_parameters().Zip(flat.named_parameters()))
        {
            Assert.True(actual.equal(expected).all().item<bool>(), $"{name} differs from TorchSharp's Adam");
        }
    }

    [Fact]
    public void Keeps_each_parameter_in_place_and_its_values()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        using var model = new LeNet5Config().Build();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        using var adam = FlatAdam.Create(model, 1e-3);

        var after = model.named_parameters().ToList();
        Assert.Equal(before.Keys, after.Select(p => p.name));
        foreach (var (name, parameter) in after)
        {
            Assert.True(parameter.requires_grad, name);
            Assert.True(parameter.equal(before[name]).all().item<bool>(), $"{name} changed value");
        }

        // One buffer: writing through the optimizer's step reaches every module's own field.
        using var input = rand(2, 1, 28, 28);
        model.call(input).sum().backward();
        adam.Step();
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.False(parameter.equal(before[name]).all().item<bool>(), $"{name} was not updated");
        }
    }

    private static nn.Module<Tensor, Tensor> Build(ModelConfig config)
    {
        torch.manual_seed(5);
        var model = config.Build();
        model.train();
        return model;
    }
}
