using System.Runtime.InteropServices;
using Cnn.Train.Models;

namespace Cnn.Train;

/// <summary>
/// oneDNN 3.7.1, inside libtorch 2.10, turns LeNet-5's training loss into NaN within the first epoch at some widths,
/// at a different batch on every run with the same seed, at 1 and 2 threads: width 0.5 (3 and 8 channels) and width 4
/// (24 and 64: NaN at batches 2, 308 and 523 of three runs). With ONEDNN_MAX_CPU_ISA=AVX2 the same runs are finite
/// (and, at width 0.5, identical), so one of its AVX-512 kernels reads memory it never wrote. Widths 1 and 2 (6 and 12
/// conv1 channels) trained finite and bit-identical run after run, the shipped models among them; every other width
/// trains, and runs forward passes, with oneDNN off for the duration, and libtorch runs its own convolutions: slower, but right and
/// reproducible. NNPACK goes off with it: libtorch would try it next and log "Could not initialize NNPACK" on every
/// convolution of a CPU it does not support. The fault is oneDNN's NCHW kernels on maps whose channels do not fill its
/// blocks of 16, measured shape by shape in bench/README.md (`Cnn.TrainBench convcheck`); `ConvolutionGradientTests`
/// checks the widths that keep oneDNN against float64 on the CPU the tests run on.
/// </summary>
public static class OneDnnGuard
{
    /// <summary>The conv1 channel counts LeNet-5 was measured to train right with oneDNN (widths 1 and 2); others train without.</summary>
    internal static readonly int[] MeasuredConv1Channels = [6, 12];

    /// <summary>Whether libtorch uses oneDNN now (true where the switch cannot be read).</summary>
    internal static bool Enabled => Read(UserEnabledMkldnn);

    /// <summary>Whether libtorch may try NNPACK now (true where the switch cannot be read).</summary>
    internal static bool NnpackEnabled => Read(UserEnabledNnpack);

    private static bool Read(Func<IntPtr, bool> sw)
    {
        try
        {
            return sw(GlobalContext());
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return true;
        }
    }

    /// <summary>
    /// oneDNN off until disposed when <paramref name="config"/> needs it; otherwise nothing. <see cref="Models.LeNet5"/>
    /// holds one for its lifetime, so its training and every forward pass run right.
    /// </summary>
    public static IDisposable For(ModelConfig config) =>
        config is LeNet5Config lenet && !MeasuredConv1Channels.Contains(lenet.Conv1Channels) ? Off() : Nothing.Instance;

    // libtorch's switches are process-wide, so the guards are counted: the first one saves and turns them off, the
    // last one disposed puts them back, whatever order several nets' guards (an ensemble's members) are disposed in.
    private static readonly Lock Gate = new();
    private static int _holders;
    private static (bool Mkldnn, bool Nnpack) _saved;

    private static IDisposable Off()
    {
        try
        {
            lock (Gate)
            {
                var context = GlobalContext();
                if (_holders++ == 0)
                {
                    _saved = (UserEnabledMkldnn(context), UserEnabledNnpack(context));
                    SetUserEnabledMkldnn(context, false);
                    SetUserEnabledNnpack(context, false);
                }

                return new Holder();
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another libtorch build without these symbols: run as before.
            return Nothing.Instance;
        }
    }

    /// <summary>
    /// NNPACK off for the rest of the process (<see cref="TorchRuntime.EnsureLoaded"/> calls this). libtorch tries it only
    /// for the convolutions oneDNN declines — one small image through 3×3 kernels, as the CIFAR net's figures of a
    /// single digit run — and on a CPU it does not support logs "Could not initialize NNPACK" for each; off, libtorch
    /// runs them with its own kernels. Training batches go to oneDNN (or, where a guard holds, to libtorch's own
    /// kernels) either way.
    /// </summary>
    internal static void NnpackOff()
    {
        try
        {
            lock (Gate)
            {
                if (_holders == 0)
                {
                    SetUserEnabledNnpack(GlobalContext(), false);
                }
                else
                {
                    _saved = _saved with { Nnpack = false };
                }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another libtorch build without the switch: it logs as before.
        }
    }

    private sealed class Holder : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            lock (Gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                if (--_holders == 0)
                {
                    var context = GlobalContext();
                    SetUserEnabledMkldnn(context, _saved.Mkldnn);
                    SetUserEnabledNnpack(context, _saved.Nnpack);
                }
            }
        }
    }

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();

        public void Dispose()
        {
        }
    }

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.I1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.I1)]
    private static extern bool UserEnabledNnpack(IntPtr context);

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);
}
