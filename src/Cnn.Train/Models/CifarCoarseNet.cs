using Cnn.Train.Kernels;
using Cnn.Train.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cnn.Train.Models;

/// <summary>
/// The 4-conv BatchNorm CNN for CIFAR-100's coarse labels (see <see cref="CifarCoarseNetConfig"/>). Field names are the
/// state-dict keys, ONNX output names and figure titles. Owns native tensors: dispose it.
/// </summary>
public sealed class CifarCoarseNet : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly ReLU relu2;
    private readonly MaxPool2d pool1;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly ReLU relu3;
    private readonly Conv2d conv4;
    private readonly BatchNorm2d bn4;
    private readonly ReLU relu4;
    private readonly MaxPool2d pool2;
    private readonly Flatten flatten;
    private readonly Linear fc1;
    private readonly ReLU relu5;
    private readonly Dropout dropout;
    private readonly Linear fc2;

    public CifarCoarseNet(CifarCoarseNetConfig config)
        : base(nameof(CifarCoarseNet))
    {
        Config = config;
        int c1 = config.Block1Channels;
        int c2 = config.Block2Channels;
        const int k = CifarCoarseNetConfig.KernelSize;
        const int p = CifarCoarseNetConfig.Padding;
        conv1 = Conv2d(config.InChannels, c1, k, padding: p);
        bn1 = BatchNorm2d(c1);
        relu1 = ReLU();
        conv2 = Conv2d(c1, c1, k, padding: p);
        bn2 = BatchNorm2d(c1);
        relu2 = ReLU();
        pool1 = MaxPool2d(CifarCoarseNetConfig.PoolSize, CifarCoarseNetConfig.PoolSize);
        conv3 = Conv2d(c1, c2, k, padding: p);
        bn3 = BatchNorm2d(c2);
        relu3 = ReLU();
        conv4 = Conv2d(c2, c2, k, padding: p);
        bn4 = BatchNorm2d(c2);
        relu4 = ReLU();
        pool2 = MaxPool2d(CifarCoarseNetConfig.PoolSize, CifarCoarseNetConfig.PoolSize);
        flatten = Flatten();
        fc1 = Linear(config.FlattenedSize, CifarCoarseNetConfig.HiddenFeatures);
        relu5 = ReLU();
        dropout = Dropout(CifarCoarseNetConfig.DropoutProbability);
        fc2 = Linear(CifarCoarseNetConfig.HiddenFeatures, config.NumClasses);
        RegisterComponents();
    }

    public CifarCoarseNetConfig Config { get; }

    /// <inheritdoc/>
    public Precision Precision { get; set; }

    public override Tensor forward(Tensor input)
    {
        Config.CheckInput(input, nameof(CifarCoarseNet));

        using var scope = NewDisposeScope();
        // Channels-last from the input on: 1.25× per training step on this net (bench/README.md). flatten restores
        // NCHW order for fc1, so the weights mean what they mean in NCHW.
        var x = relu1.call(ConvBatchNorm(conv1, bn1, ChannelsLast.From(input)));
        // ReLU and max pooling commute (ReLU is monotone), so each ReLU before a pool runs on the pooled quarter of the
        // map instead: the same numbers forward and backward, three eighths of the ReLU work gone.
        x = relu2.call(pool1.call(ConvBatchNorm(conv2, bn2, x)));
        x = relu3.call(ConvBatchNorm(conv3, bn3, x));
        x = relu4.call(pool2.call(ConvBatchNorm(conv4, bn4, x)));
        x = relu5.call(MixedPrecision.Linear(fc1, flatten.call(x), Precision));
        return MixedPrecision.Logits(MixedPrecision.Linear(fc2, dropout.call(x), Precision)).MoveToOuterDisposeScope();
    }

    private Tensor ConvBatchNorm(Conv2d conv, BatchNorm2d bn, Tensor x) => MixedPrecision.ConvBatchNorm(conv, bn, x, Precision, training);
}
