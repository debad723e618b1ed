using System.Diagnostics;
using Cnn.Train;
using Cnn.Train.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

// Where one training step's time goes in TorchSharp, phase by phase; bench/steps_pytorch.py times the same phases in
// PyTorch. Usage: Cnn.TrainBench lenet|cifar [--threads N] [--batch N] [--steps N] [--channels-last] [--no-mkldnn]
//                 [--torchsharp-adam] [--bf16]
//                 Cnn.TrainBench pool|expand   (2×2 average pooling: libtorch's kernels against the alternatives)
//                 Cnn.TrainBench convcheck [--threads N] [--no-mkldnn]   (convolutions against float64, ConvCheck.cs)
//                 Cnn.TrainBench validation RUN_DIR OUT_DIR   (a LeNet run's validation split as t10k IDX files)
// --no-mkldnn calls at::Context::setUserEnabledMkldnn(false) by its C++ symbol (TorchSharp does not expose it): a
// diagnostic for this libtorch build only.
string model = args.Length > 0 ? args[0] : "lenet";
if (model == "validation" && args.Length == 3)
{
    Cnn.Train.TorchRuntime.EnsureLoaded();
    return await Cnn.TrainBench.ValidationSplit.Write(args[1], args[2]);
}

int threads = Option("--threads", 1);
int batch = Option("--batch", model == "lenet" ? 64 : 128);
int steps = Option("--steps", model == "lenet" ? 2000 : 150);
Console.WriteLine(GlibcAllocator.RetainFreedMemory());
torch.set_num_threads(threads);
if (model == "expand")
{
    ExpandBench.Run();
    return 0;
}

if (model == "pool")
{
    PoolBench.Run();
    return 0;
}

bool channelsLast = args.Contains("--channels-last");
if (args.Contains("--no-mkldnn"))
{
    Native.SetUserEnabledMkldnn(Native.GlobalContext(), false);
}
if (model == "convcheck")
{
    ConvCheck.Run();
    return 0;
}

torch.manual_seed(1);
ModelConfig config = model == "lenet" ? new LeNet5Config() : new CifarCoarseNetConfig();
int size = config.ImageSize;
using var net = config.Build();
// --bf16: the trainer's mixed precision (Kernels/MixedPrecision.cs).
Cnn.Train.Kernels.MixedPrecision.Set(net, args.Contains("--bf16") ? Cnn.Train.Training.Precision.Bf16 : Cnn.Train.Training.Precision.Fp32);

// The trainer's optimizer (Training/FlatAdam.cs); --torchsharp-adam times TorchSharp's own Adam instead.
bool torchSharpAdam = args.Contains("--torchsharp-adam");
using var flatAdam = torchSharpAdam ? null : Cnn.Train.Training.FlatAdam.Create(net, 1e-3);
using var torchAdam = torchSharpAdam ? optim.Adam(net.parameters(), 1e-3) : null;
Action zeroGrad = flatAdam != null ? flatAdam.ZeroGrad : () => torchAdam!.zero_grad();
Action optimizerStep = flatAdam != null ? flatAdam.Step : () => torchAdam!.step();
using var generator = new Generator(7);
using var images = randint(0, 256, [8192, config.InChannels, size, size], dtype: ScalarType.Byte, generator: generator);
using var labels = randint(0, config.NumClasses, [8192], dtype: ScalarType.Int64, generator: generator);
using var order = randperm(8192, generator: generator);
var mean = new float[config.InChannels];
var std = new float[config.InChannels];
Array.Fill(mean, 0.3f);
Array.Fill(std, 0.25f);

string[] phases = ["batch", "zero_grad", "forward", "loss", "backward", "step", "bookkeeping"];
var seconds = new double[phases.Length];
long clock = 0;
void Lap(int phase)
{
    long now = Stopwatch.GetTimestamp();
    seconds[phase] += Stopwatch.GetElapsedTime(clock, now).TotalSeconds;
    clock = now;
}

net.train();
for (int s = -50; s < steps; s++)
{
    if (s == 0)
    {
        Array.Clear(seconds);
    }

    using var scope = NewDisposeScope();
    clock = Stopwatch.GetTimestamp();
    int start = (int)((long)(s + 50) * batch % (8192 - batch));
    var idx = order[start..(start + batch)];
    var x = images.index_select(0, idx).to_type(ScalarType.Float32).div_(255f);
    x = (x - tensor(mean).view(1, -1, 1, 1)) / tensor(std).view(1, -1, 1, 1);
    if (channelsLast)
    {
        x = Cnn.Train.Kernels.ChannelsLast.From(x);
    }

    var y = labels.index_select(0, idx);
    Lap(0);
    zeroGrad();
    Lap(1);
    var logits = net.call(x);
    Lap(2);
    var loss = F.cross_entropy(logits, y);
    Lap(3);
    loss.backward();
    Lap(4);
    optimizerStep();
    Lap(5);
    _ = loss.item<float>();
    _ = logits.argmax(1).eq(y).sum().item<long>();
    Lap(6);
}

Report(phases, seconds, steps, batch);

Console.WriteLine(EvaluationForward(net, images, mean, std, batch, Math.Max(steps / 4, 10), channelsLast));
Console.WriteLine(WholeEvaluation(net, images, labels, mean, std, batch, Math.Max(steps / 4, 10), config.NumClasses));

// The fixed cost of one call into libtorch: an in-place add on a one-element tensor.
using var one = zeros(1);
var empty = Stopwatch.StartNew();
for (int i = 0; i < 200_000; i++)
{
    one.add_(1f);
}

Console.WriteLine($"{"one in-place add on [1]",-24} {empty.Elapsed.TotalMicroseconds / 200_000,8:F2} µs");
var look = Stopwatch.StartNew();
for (int i = 0; i < 1000; i++)
{
    JitWorkerPriority.Lower();
}

Console.WriteLine($"{"JitWorkerPriority.Lower",-24} {look.Elapsed.TotalMicroseconds / 1000,8:F2} µs ({Directory.GetDirectories("/proc/self/task").Length} threads)");
return 0;

// The forward pass alone under inference_mode, as Trainer.Evaluate runs it, after 5 warm-up batches.
static string EvaluationForward(nn.Module<Tensor, Tensor> net, Tensor images, float[] mean, float[] std, int batch, int batches, bool channelsLast)
{
    net.eval();
    using var inference = inference_mode(true);
    double seconds = 0;
    for (int s = -5; s < batches; s++)
    {
        using var scope = NewDisposeScope();
        int start = (s + 5) * batch % ((int)images.shape[0] - batch);
        var x = images[start..(start + batch)].to_type(ScalarType.Float32).div_(255f);
        x = (x - tensor(mean).view(1, -1, 1, 1)) / tensor(std).view(1, -1, 1, 1);
        if (channelsLast)
        {
            x = Cnn.Train.Kernels.ChannelsLast.From(x);
        }

        long begin = Stopwatch.GetTimestamp();
        _ = net.call(x).argmax(1).sum().item<long>();
        seconds += s >= 0 ? Stopwatch.GetElapsedTime(begin).TotalSeconds : 0;
    }

    return $"{"eval forward",-24} {seconds / batches * 1e6,8:F1}   ({batch * batches / seconds:F0} images/s)";
}

// Trainer.Evaluate itself, as training's validation and test reports call it (the batch, normalisation, loss,
// confidences and copies besides the forward pass), over as many images as EvaluationForward timed, after one warm-up call.
static string WholeEvaluation(nn.Module<Tensor, Tensor> net, Tensor images, Tensor labels, float[] mean, float[] std, int batch, int batches, int classes)
{
    var names = Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
    using var set = new Cnn.Train.Data.ImageSet(images[..(batch * batches)].clone(), labels[..(batch * batches)].clone(), names);
    var normalization = new Cnn.Train.Data.Normalization([.. mean.Select(m => (double)m)], [.. std.Select(s => (double)s)]);
    _ = Cnn.Train.Training.Trainer.Evaluate(net, set, normalization, CPU, batch);
    long begin = Stopwatch.GetTimestamp();
    _ = Cnn.Train.Training.Trainer.Evaluate(net, set, normalization, CPU, batch);
    double seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
    return $"{"Trainer.Evaluate",-24} {seconds / batches * 1e6,8:F1}   ({batch * batches / seconds:F0} images/s)";
}

static void Report(string[] phases, double[] seconds, int steps, int batch)
{
    double total = seconds.Sum();
    Console.WriteLine($"{"phase",-24} {"µs/step",8} {"share",6}");
    for (int i = 0; i < phases.Length; i++)
    {
        Console.WriteLine($"{phases[i],-24} {seconds[i] / steps * 1e6,8:F1} {seconds[i] / total,6:P0}");
    }

    Console.WriteLine($"{"step",-24} {total / steps * 1e6,8:F1}   ({batch * steps / total:F0} images/s)");
}

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

internal static class Native
{
    [System.Runtime.InteropServices.DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at13globalContextEv")]
    public static extern IntPtr GlobalContext();

    [System.Runtime.InteropServices.DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    public static extern void SetUserEnabledMkldnn(IntPtr context, [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.I1)] bool enabled);
}
