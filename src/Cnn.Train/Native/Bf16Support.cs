using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Cnn.Train.Training;
using TorchSharp;

namespace Cnn.Train;

/// <summary>
/// Whether this machine computes bfloat16 dot products in hardware, which is what makes <see cref="Precision.Bf16"/>
/// faster than float32: x86 with AVX512_BF16 (AMD Zen 4 on, Intel Cooper Lake on) or AMX-BF16 (Sapphire Rapids on), or
/// ARM with the BF16 extension. Elsewhere oneDNN converts to float32 for every product and bf16 trains slower.
/// </summary>
public static class Bf16Support
{
    /// <summary>The CPU's bfloat16 instructions as the OS names them ("avx512_bf16, amx_bf16"), or null where it has none or they cannot be read.</summary>
    public static string? CpuFeatures()
    {
        // AVX10.1 includes AVX512_BF16 on every CPU that has it; otherwise read the kernel's list (Linux only).
        if (Avx10v1.IsSupported)
        {
            return "avx10.1";
        }

        const string cpuinfo = "/proc/cpuinfo";
        if (!OperatingSystem.IsLinux() || !File.Exists(cpuinfo))
        {
            return null;
        }

        string? flags = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal) || l.StartsWith("Features", StringComparison.Ordinal));
        var names = flags?[(flags.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        string[] bf16 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? ["bf16"] : ["avx512_bf16", "amx_bf16"];
        var found = names.Where(bf16.Contains).ToList();
        return found.Count > 0 ? string.Join(", ", found) : null;
    }

    /// <summary>
    /// Refuses bf16 training on a CPU without bfloat16 dot products unless <see cref="Training.TrainOptions.ForcePrecision"/>
    /// is set; on a GPU the device decides and nothing is checked here.
    /// </summary>
    /// <exception cref="NotSupportedException">bf16 on a CPU without bfloat16 instructions, not forced.</exception>
    public static void Check(Training.TrainOptions options, torch.Device device) => Check(options, device, CpuFeatures());

    /// <summary><see cref="Check(Training.TrainOptions, torch.Device)"/> for a CPU with <paramref name="cpuFeatures"/> (null: none).</summary>
    internal static void Check(Training.TrainOptions options, torch.Device device, string? cpuFeatures)
    {
        if (options.Precision != Precision.Bf16 || options.ForcePrecision || device.type != DeviceType.CPU || cpuFeatures != null)
        {
            return;
        }

        throw new NotSupportedException(
            $"bf16 training needs bfloat16 dot products in the CPU (AVX512_BF16 or AMX-BF16 on x86, BF16 on ARM), and this one ({RuntimeInformation.ProcessArchitecture}) reports none: " +
            "libtorch would emulate them, slower than fp32. Train in fp32, or force bf16 with --force-bf16 (for testing the numbers, not for speed)");
    }
}
