using System.Runtime.InteropServices;
using Cnn.Train.Models;

namespace Cnn.Train;

/// <summary>
/// oneDNN 3.7.1, inside libtorch 2.10, turns LeNet-5's training loss into NaN within the first epoch when conv1 has
/// fewer than 6 channels (width below 1), at a different batch on every run with the same seed, at 1 and 2 threads;
/// with ONEDNN_MAX_CPU_ISA=AVX2 the same runs are finite and identical, so one of its AVX-512 kernels for so few
/// channels reads memory it never wrote. For such nets training turns oneDNN off for its duration, and libtorch
/// runs its own convolutions: slower, but right and reproducible. NNPACK goes off with it: libtorch would try it next
/// and log "Could not initialize NNPACK" on every convolution of a CPU it does not support. Nets of width 1 and above
/// keep oneDNN.
/// </summary>
internal static class OneDnnGuard
{
    /// <summary>Below this many conv1 channels LeNet-5 trains without oneDNN.</summary>
    internal const int MinConv1Channels = 6;

    /// <summary>Whether libtorch uses oneDNN now (true where the switch cannot be read).</summary>
    internal static bool Enabled
    {
        get
        {
            try
            {
                return UserEnabledMkldnn(GlobalContext());
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return true;
            }
        }
    }

    /// <summary>oneDNN off until disposed when <paramref name="config"/> needs it; otherwise nothing.</summary>
    public static IDisposable For(ModelConfig config) =>
        config is LeNet5Config { Conv1Channels: < MinConv1Channels } ? Off() : Nothing.Instance;

    private static IDisposable Off()
    {
        try
        {
            var context = GlobalContext();
            var restore = new Restore(context, UserEnabledMkldnn(context), UserEnabledNnpack(context));
            SetUserEnabledMkldnn(context, false);
            SetUserEnabledNnpack(context, false);
            return restore;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another libtorch build without these symbols: train as before.
            return Nothing.Instance;
        }
    }

    private sealed class Restore(IntPtr context, bool mkldnn, bool nnpack) : IDisposable
    {
        public void Dispose()
        {
            SetUserEnabledMkldnn(context, mkldnn);
            SetUserEnabledNnpack(context, nnpack);
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
