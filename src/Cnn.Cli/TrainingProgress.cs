using Cnn.Train.Training;
using Spectre.Console;

namespace Cnn.Cli;

/// <summary>
/// Draws training progress: a live bar per epoch (loss, accuracy, images/s, ETA) on a terminal, and a one-line
/// summary per epoch everywhere (also when output is redirected to a log).
/// </summary>
internal static class TrainingProgress
{
    public static T Run<T>(IAnsiConsole console, Func<ITrainingObserver, T> train)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return train(new LineObserver(console, null));
        }

        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx => train(new LineObserver(console, ctx)));
    }

    private sealed class LineObserver(IAnsiConsole console, ProgressContext? context) : ITrainingObserver
    {
        private ProgressTask? _task;

        public void EpochStarted(int epoch, int epochs, int batches)
        {
            _task = context?.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
        }

        public void BatchCompleted(BatchProgress p)
        {
            if (_task == null)
            {
                return;
            }

            _task.Value = p.Batch;
            _task.Description = $"epoch {p.Epoch}/{p.Epochs}  loss {p.Loss:F4}  acc {p.Accuracy:P1}  {p.ImagesPerSecond:N0} img/s";
        }

        public void EpochCompleted(EpochMetrics m, bool improved)
        {
            if (_task != null)
            {
                _task.Description = $"epoch {m.Epoch}  loss {m.TrainLoss:F4}  acc {m.TrainAccuracy:P1}  {m.ImagesPerSecond:N0} img/s";
                _task.StopTask();
            }

            console.MarkupLineInterpolated(
                $"epoch {m.Epoch,3}  lr {m.LearningRate:E2}  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}  val loss {m.ValidationLoss:F4} acc {m.ValidationAccuracy:P2}  {m.Seconds:F1}s {m.ImagesPerSecond:N0} img/s  rss {m.RssMegabytes:N0} MB{(improved ? "  *" : "")}");
        }

        public void Message(string text) => console.MarkupLineInterpolated($"[grey]{text}[/]");
    }
}
