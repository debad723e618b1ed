using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;

namespace Cnn.Train.Recipes;

/// <summary>LeNet-5: the seed's digit reader, on the embedded digits by default.</summary>
public sealed class LeNetRecipe : Recipe
{
    /// <summary>Peak learning rate of the one-cycle schedule (it starts at 1/25 of it): measured best of 1e-3, 2e-3 and 3e-3.</summary>
    public const double LearningRate = 3e-3;

    internal LeNetRecipe()
    {
    }

    /// <inheritdoc />
    public override string Name => "lenet";

    /// <inheritdoc />
    public override string Summary => "LeNet-5 on any data set: the 5,000 embedded MNIST digits by default, mnist, handwriting, fashion-mnist, cifar100.";

    /// <inheritdoc />
    public override Dataset DefaultDataset => Data.Datasets.Digits;

    /// <inheritdoc />
    public override ModelConfig Model(DataInfo data, double width) => new LeNet5Config
    {
        InChannels = data.Channels,
        ImageSize = data.Height,
        NumClasses = data.ClassNames.Count,
        Width = width,
    };

    /// <summary>Adam at <see cref="LearningRate"/> under the one-cycle schedule, batch 64, every core.</summary>
    protected override TrainOptions NetDefaults(Dataset dataset) =>
        new() { LearningRate = LearningRate, Scheduler = SchedulerKind.OneCycle, Threads = Environment.ProcessorCount };
}
