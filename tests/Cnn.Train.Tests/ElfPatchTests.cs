using System.Reflection;
using Cnn.Build;

using Cnn.Tests;

namespace Cnn.Train.Tests;

/// <summary>The GLIBCXX_3.4.32 fix, on the real libLibTorchSharp.so of TorchSharp 0.107.0.</summary>
public class ElfPatchTests
{
    private const string Version = "GLIBCXX_3.4.32";

    private static string CachedLibrary()
    {
        string root = typeof(ElfPatchTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NuGetPackageRoot").Value!;
        string version = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
        return Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void The_shipped_library_needs_the_version_strongly_and_only_from_libstdcxx()
    {
        var needs = ElfSymbolVersions.ReadNeeds(File.ReadAllBytes(CachedLibrary()), "lib");
        var need = Assert.Single(needs, n => n.Version == Version);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.False(need.IsWeak);
        Assert.Contains(needs, n => n.Version == "GLIBC_2.2.5" && n.File == "libc.so.6");
    }

    [Fact]
    public void Marking_weak_sets_only_that_entrys_flag_bit()
    {
        var original = File.ReadAllBytes(CachedLibrary());
        var patched = ElfSymbolVersions.MarkWeak(original, "lib", Version);

        Assert.Equal(original.Length, patched.Length);
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        var need = ElfSymbolVersions.ReadNeeds(original, "lib").Single(n => n.Version == Version);
        Assert.Equal([need.FlagsOffset], changed.Select(i => (long)i));
        Assert.Equal(original[need.FlagsOffset] | ElfSymbolVersions.VerFlagWeak, patched[need.FlagsOffset]);

        var before = ElfSymbolVersions.ReadNeeds(original, "lib");
        var after = ElfSymbolVersions.ReadNeeds(patched, "lib");
        Assert.Equal(before.Select(n => (n.File, n.Version, n.Version == Version ? n.Flags | 2 : n.Flags)),
            after.Select(n => (n.File, n.Version, (int)n.Flags)));
    }

    [Fact]
    public void The_build_output_copy_is_patched_exactly_when_the_system_lacks_the_version_and_the_cache_is_untouched()
    {
        string? system = ElfSymbolVersions.FindSystemLibrary("libstdc++.so.6");
        Assert.NotNull(system);
        bool systemHasIt = ElfSymbolVersions.ReadDefinitions(File.ReadAllBytes(system), system).Contains(Version);
        string output = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");

        var outputNeed = ElfSymbolVersions.ReadNeeds(File.ReadAllBytes(output), output).Single(n => n.Version == Version);
        var cacheNeed = ElfSymbolVersions.ReadNeeds(File.ReadAllBytes(CachedLibrary()), "cache").Single(n => n.Version == Version);

        Assert.Equal(!systemHasIt, outputNeed.IsWeak);
        Assert.False(cacheNeed.IsWeak);
    }

    [Fact]
    public void System_libstdcxx_definitions_are_read()
    {
        string system = ElfSymbolVersions.FindSystemLibrary("libstdc++.so.6")!;
        var defs = ElfSymbolVersions.ReadDefinitions(File.ReadAllBytes(system), system);
        Assert.Contains("GLIBCXX_3.4", defs);
        Assert.Contains("CXXABI_1.3", defs);
    }

    [Fact]
    public void Diagnosis_of_the_unpatched_library_names_the_missing_version_and_the_system_library()
    {
        using var dir = new TempFolder();
        File.Copy(CachedLibrary(), dir.Combine("libLibTorchSharp.so"));
        string system = ElfSymbolVersions.FindSystemLibrary("libstdc++.so.6")!;
        bool systemHasIt = ElfSymbolVersions.ReadDefinitions(File.ReadAllBytes(system), system).Contains(Version);

        string message = TorchRuntime.Diagnose(dir.Path);

        if (systemHasIt)
        {
            Assert.Contains("every symbol version libLibTorchSharp.so needs is present", message);
        }
        else
        {
            Assert.StartsWith($"libtorch could not be loaded: libLibTorchSharp.so needs {Version} from libstdc++.so.6 (the system's {system} provides up to GLIBCXX_3.4.", message);
        }
    }

    [Fact]
    public void Non_elf_and_truncated_files_are_named_in_errors()
    {
        var e1 = Assert.Throws<InvalidDataException>(() => ElfSymbolVersions.ReadNeeds(new byte[100], "x.so"));
        Assert.Equal("x.so: not an ELF file (expected magic 7F 45 4C 46)", e1.Message);
        var head = File.ReadAllBytes(CachedLibrary())[..64];
        var e2 = Assert.Throws<InvalidDataException>(() => ElfSymbolVersions.ReadNeeds(head, "cut.so"));
        Assert.StartsWith("cut.so: truncated ELF file", e2.Message);
    }

    [Fact]
    public void Marking_a_version_the_library_does_not_need_is_an_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfSymbolVersions.MarkWeak(File.ReadAllBytes(CachedLibrary()), "lib", "GLIBCXX_9.9"));
        Assert.Equal("lib: no symbol-version need named GLIBCXX_9.9 (expected one in its .gnu.version_r section)", e.Message);
    }
}
