using Cnn.Train.Kernels;
using Cnn.Inference;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cnn.Train.Training;

/// <summary>
/// Knowledge distillation (Hinton et al. 2015): what the run learns from a trained model's probabilities besides the
/// labels. Stored in the run's config only when set.
/// </summary>
/// <param name="Teacher">An ONNX model file exported by cnn (one net or an ensemble) whose input is the run's images, as the command line named it.</param>
/// <param name="Temperature">Both the teacher's and the student's logits are divided by it before the softmax: above 1, the teacher's small probabilities — which wrong classes a digit resembles — carry weight.</param>
/// <param name="Weight">The share of the loss that is the match to the teacher (× T², as Hinton et al. scale it); the rest is cross-entropy with the labels.</param>
public sealed record Distillation(string Teacher, double Temperature = Distillation.DefaultTemperature, double Weight = Distillation.DefaultWeight)
{
    /// <summary>The default temperature.</summary>
    public const double DefaultTemperature = 4;

    /// <summary>The default weight of the teacher's term.</summary>
    public const double DefaultWeight = 0.7;

    /// <summary>
    /// The teacher file's SHA-256 (lowercase hex) when the run started, which the trainer writes into config.json: the
    /// record of which model taught it, and a resumed run refuses a teacher that has changed since. Null: not yet
    /// read (a new run).
    /// </summary>
    public string? TeacherSha256 { get; init; }

    /// <summary>The SHA-256 of a file, lowercase hex.</summary>
    /// <param name="path">The file.</param>
    /// <returns>64 hex digits.</returns>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}

/// <summary>The teacher of a <see cref="Distillation"/>, loaded for one training: soft targets for each augmented batch, and the combined loss.</summary>
internal sealed class DistillationTeacher : IDisposable
{
    private readonly CnnModel _teacher;
    private readonly Distillation _settings;

    private DistillationTeacher(CnnModel teacher, Distillation settings)
    {
        _teacher = teacher;
        _settings = settings;
    }

    /// <summary>The distillation as loaded, with the teacher file's SHA-256: what the run's config records.</summary>
    public Distillation Settings => _settings;

    /// <summary>Loads the teacher and checks it reads the run's images and names its classes.</summary>
    /// <exception cref="ArgumentException">The file is not a model cnn can load, or its input or classes differ from the data's.</exception>
    public static DistillationTeacher Load(Distillation settings, DataInfo data, int threads)
    {
        if (!File.Exists(settings.Teacher))
        {
            throw new ArgumentException($"teacher {settings.Teacher}: no such file; expected an ONNX model exported by cnn export");
        }

        string actual = Distillation.Sha256Of(settings.Teacher);
        if (settings.TeacherSha256 is { } expected && actual != expected)
        {
            throw new ArgumentException(
                $"teacher {settings.Teacher}: its SHA-256 is {actual}, but this run started with a teacher of SHA-256 {expected}; a run learns from one teacher, so restore that file or start a new run");
        }

        CnnModel teacher;
        try
        {
            teacher = CnnModel.Load(settings.Teacher, new InferenceOptions { Device = Cnn.Contracts.ExecutionDevice.Cpu, IntraOpThreads = threads });
        }
        catch (InferenceException e)
        {
            throw new ArgumentException($"teacher {e.Message}", e);
        }

        var shape = teacher.Card.Input.Shape;
        if (shape.Channels != data.Channels || shape.Height != data.Height || shape.Width != data.Width || !teacher.Card.Labels.SequenceEqual(data.ClassNames))
        {
            teacher.Dispose();
            throw new ArgumentException(
                $"teacher {settings.Teacher}: reads {shape.Channels}×{shape.Height}×{shape.Width} images of classes {string.Join(",", teacher.Card.Labels)}; " +
                $"expected {data.Channels}×{data.Height}×{data.Width} images of the data's classes {string.Join(",", data.ClassNames)}");
        }

        return new DistillationTeacher(teacher, settings with { TeacherSha256 = actual });
    }

    /// <summary>The teacher's probabilities at the distillation temperature, [N, classes], for a batch of raw intensities.</summary>
    public Tensor Targets(Tensor raw)
    {
        int n = (int)raw.shape[0];
        var pixels = raw.detach().cpu().contiguous().data<float>().ToArray();
        var predictions = _teacher.PredictBatch(pixels, n);
        int classes = _teacher.Card.Labels.Count;
        var logProbabilities = new float[n * classes];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < classes; c++)
            {
                // The log of a probability is a logit (up to a constant per image), which an ensemble's mean needs.
                logProbabilities[(i * classes) + c] = MathF.Log(Math.Max(predictions[i].Probabilities[c], 1e-30f));
            }
        }

        var logits = tensor(logProbabilities, new long[] { n, classes }).to(raw.device);
        using var hold = new ScalarHold();
        return F.softmax(logits / hold[_settings.Temperature], 1);
    }

    /// <summary>(1 − w) · cross-entropy + w · T² · KL(teacher ‖ student), both at temperature T.</summary>
    public Tensor Loss(Tensor logits, Tensor targets, Tensor crossEntropy)
    {
        double t = _settings.Temperature;
        using var hold = new ScalarHold();
        var student = F.log_softmax(logits / hold[t], 1);
        // Σ p (log p − log q), written out: the teacher's entropy term does not move the gradient but keeps the
        // printed loss a divergence (0 when the student matches).
        var match = (targets * (targets.clamp_min(hold[1e-30]).log() - student)).sum() / hold[logits.shape[0]];
        return (crossEntropy * hold[1 - _settings.Weight]).add(match * hold[_settings.Weight * t * t], hold[1]);
    }

    public void Dispose() => _teacher.Dispose();
}
