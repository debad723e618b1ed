using Cnn.Train.Kernels;
using Cnn.Train.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cnn.Train.Models;

/// <summary>
/// LeNet-5 (see <see cref="LeNet5Config"/>). Field names are the contract: they are the state-dict keys, the ONNX output
/// names of the feature maps and the figure titles. Owns native tensors: dispose it. At a width oneDNN computes wrong
/// (<see cref="OneDnnGuard"/>) it holds oneDNN off for its lifetime, so every forward pass — training, an export's
/// accuracy, a verification, a report — is right wherever it runs.
/// </summary>
public sealed class LeNet5 : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Conv2d conv1;
    private readonly ReLU relu1;
    private readonly AvgPool2d pool1;
    private readonly Conv2d conv2;
    private readonly ReLU relu2;
    private readonly AvgPool2d pool2;
    private readonly Flatten flatten;
    private readonly Linear fc1;
    private readonly ReLU relu3;
    private readonly Linear fc2;
    private readonly ReLU relu4;
    private readonly Linear fc3;
    private readonly IDisposable oneDnn;

    public LeNet5(LeNet5Config config)
        : base(nameof(LeNet5))
    {
        Config = config;
        oneDnn = OneDnnGuard.For(config);
        conv1 = Conv2d(config.InChannels, config.Conv1Channels, LeNet5Config.KernelSize, padding: LeNet5Config.Conv1Padding);
        relu1 = ReLU();
        pool1 = AvgPool2d(LeNet5Config.PoolSize, LeNet5Config.PoolSize);
        conv2 = Conv2d(config.Conv1Channels, config.Conv2Channels, LeNet5Config.KernelSize);
        relu2 = ReLU();
        pool2 = AvgPool2d(LeNet5Config.PoolSize, LeNet5Config.PoolSize);
        flatten = Flatten();
        fc1 = Linear(config.FlattenedSize, LeNet5Config.Fc1Features);
        relu3 = ReLU();
        fc2 = Linear(LeNet5Config.Fc1Features, LeNet5Config.Fc2Features);
        relu4 = ReLU();
        fc3 = Linear(LeNet5Config.Fc2Features, config.NumClasses);
        RegisterComponents();
    }

    public LeNet5Config Config { get; }

    /// <inheritdoc/>
    public Precision Precision { get; set; }

    public override Tensor forward(Tensor input)
    {
        Config.CheckInput(input, nameof(LeNet5));

        using var scope = NewDisposeScope();
        // The pools compute through a faster kernel with the same arithmetic; the modules stay the contract (names, export).
        var x = AveragePool2x2.Apply(relu1.call(MixedPrecision.Conv(conv1, input, Precision)), pool1);
        x = AveragePool2x2.Apply(relu2.call(MixedPrecision.Conv(conv2, x, Precision)), pool2);
        x = flatten.call(x);
        x = relu3.call(MixedPrecision.Linear(fc1, x, Precision));
        x = relu4.call(MixedPrecision.Linear(fc2, x, Precision));
        return MixedPrecision.Logits(MixedPrecision.Linear(fc3, x, Precision)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        oneDnn.Dispose();
    }
}
