using Cnn.Train.Training;

using Cnn.Tests;

namespace Cnn.Train.Tests;

public class LrScheduleTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void OneCycle_matches_pytorch_shape()
    {
        var options = new TrainOptions { Scheduler = SchedulerKind.OneCycle, LearningRate = 1e-3, Epochs = 10 };
        var s = new LrSchedule(options, stepsPerEpoch: 100);
        Assert.Equal(1e-3 / 25, s.At(0), Tolerance);
        Assert.Equal(1e-3, s.At(299), Tolerance);
        Assert.Equal(1e-3 / 25 / 1e4, s.At(999), Tolerance);
        Assert.True(s.At(150) > s.At(100) && s.At(600) < s.At(400));
    }

    [Fact]
    public void Cosine_halves_at_the_middle()
    {
        var s = new LrSchedule(new TrainOptions { Scheduler = SchedulerKind.Cosine, LearningRate = 2e-3, Epochs = 4 }, 50);
        Assert.Equal(2e-3, s.At(0), Tolerance);
        Assert.Equal(1e-3, s.At(100), Tolerance);
    }

    [Fact]
    public void Step_multiplies_every_step_epochs()
    {
        var s = new LrSchedule(new TrainOptions { Scheduler = SchedulerKind.Step, LearningRate = 1, Epochs = 30, StepEpochs = 10, StepGamma = 0.5 }, 7);
        Assert.Equal(1, s.At(69), Tolerance);
        Assert.Equal(0.5, s.At(70), Tolerance);
        Assert.Equal(0.25, s.At(140), Tolerance);
    }

    [Fact]
    public void Plateau_reduces_after_patience_epochs_without_improvement()
    {
        var s = new LrSchedule(new TrainOptions { Scheduler = SchedulerKind.Plateau, LearningRate = 1, PlateauPatience = 2, PlateauFactor = 0.1 }, 10);
        s.EpochEnded(1.0);
        s.EpochEnded(1.0);
        s.EpochEnded(1.0);
        Assert.Equal(1, s.At(0), Tolerance);
        s.EpochEnded(1.0);
        Assert.Equal(0.1, s.At(0), Tolerance);
        s.EpochEnded(0.5);
        Assert.Equal(0.1, s.At(0), Tolerance);
        Assert.Equal(new PlateauState(0.1, 0.5, 0), s.Plateau);
    }

    [Fact]
    public void None_is_constant()
    {
        var s = new LrSchedule(new TrainOptions { Scheduler = SchedulerKind.None, LearningRate = 3e-4 }, 10);
        Assert.Equal(3e-4, s.At(0));
        Assert.Equal(3e-4, s.At(149));
    }

    [Fact]
    public void Options_out_of_range_name_the_option_and_the_range()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { BatchSize = 0 }.Validated());
        Assert.StartsWith("BatchSize is 0; expected ≥ 1", e.Message);
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainOptions { Device = (Cnn.Contracts.ExecutionDevice)7 }.Validated());
        Assert.StartsWith("Device is 7; expected auto, cpu or cuda", d.Message);
    }
}
