using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Train.Training;

/// <summary>Trainer state that is not tensors: where the run stands, for checkpoint and resume.</summary>
public sealed record TrainerState(
    int EpochsDone,
    int BestEpoch,
    double BestValidationLoss,
    int EpochsWithoutImprovement,
    PlateauState Plateau,
    double TrainSeconds,
    IReadOnlyList<EpochMetrics> History);

/// <summary>
/// checkpoint.bin: a header, the trainer state as JSON, the model's weights and the optimizer's state (Adam's moments
/// and step counts), then, for a run with a weight average, the average; in one file replaced atomically after every
/// epoch.
/// </summary>
public static class Checkpoint
{
    private const string Magic = "cnn-checkpoint/1";

    internal static void Save(RunFolder run, TrainerState state, nn.Module model, optim.Optimizer optimizer, WeightAverage? average)
    {
        run.WriteAtomic(RunFolder.CheckpointFile, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(JsonSerializer.Serialize(state, RunFolder.Json));
            model.save(writer);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
            average?.Save(writer);
        });
    }

    internal static TrainerState Load(RunFolder run, nn.Module model, optim.Optimizer optimizer, WeightAverage? average)
    {
        string path = run.File(RunFolder.CheckpointFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} not found; a run can be resumed once it has finished its first epoch", path);
        }

        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        try
        {
            string magic = reader.ReadString();
            if (magic != Magic)
            {
                throw new InvalidDataException($"{path}: header '{magic}'; expected '{Magic}'");
            }

            var state = JsonSerializer.Deserialize<TrainerState>(reader.ReadString(), RunFolder.Json)
                ?? throw new InvalidDataException($"{path}: empty trainer state");
            model.load(reader);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
            average?.Load(reader);
            return state;
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or FormatException or ArgumentException or IOException && e is not FileNotFoundException)
        {
            // A kill during a write cannot leave this file half-written (it is renamed into place complete), but a
            // disk error or a hand edit can: say which file, and what to do, instead of the reader's message alone.
            throw new InvalidDataException(
                $"{path}: the checkpoint is damaged ({e.GetType().Name}: {e.Message.Split('\n')[0]}); delete it to train this run again from epoch 1", e);
        }
    }
}
