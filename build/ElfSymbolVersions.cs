// Shared by the build (an MSBuild inline task, see build/TorchSharpNative.targets) and by Cnn.Train (startup
// diagnostics and the unit tests), so the code that patches libLibTorchSharp.so is the code that is tested.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Cnn.Build
{
    /// <summary>One version a shared object needs from one of its dependencies (an ELF Vernaux entry).</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string version, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The dependency's soname, e.g. <c>libstdc++.so.6</c>.</summary>
        public string File { get; }

        /// <summary>The version name, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
        public string Version { get; }

        /// <summary>The vna_flags field (<see cref="ElfSymbolVersions.VerFlagWeak"/> = 0x2).</summary>
        public ushort Flags { get; }

        /// <summary>Byte offset of vna_flags in the file.</summary>
        public long FlagsOffset { get; }

        public bool IsWeak => (Flags & ElfSymbolVersions.VerFlagWeak) != 0;
    }

    /// <summary>
    /// Reads the GNU symbol-version sections of a little-endian ELF64 shared object and marks a needed
    /// version weak. glibc's loader treats a missing weak version as non-fatal, which is what lets TorchSharp's
    /// libLibTorchSharp.so (linked against GCC 13, needing GLIBCXX_3.4.32 for one never-called symbol) load on
    /// systems whose libstdc++ stops at GLIBCXX_3.4.30.
    /// </summary>
    public static class ElfSymbolVersions
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Every (dependency, version) pair the object needs, in file order.</summary>
        public static IReadOnlyList<ElfVersionNeed> ReadNeeds(byte[] elf, string fileName)
        {
            var needs = new List<ElfVersionNeed>();
            foreach (var section in Sections(elf, fileName))
            {
                if (section.Type != ShtGnuVerneed)
                {
                    continue;
                }

                var strtab = SectionAt(elf, fileName, section.Link);
                long entry = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    ushort count = U16(elf, entry + 2, fileName);
                    string file = CString(elf, strtab.Offset + U32(elf, entry + 4, fileName), fileName);
                    long aux = entry + U32(elf, entry + 8, fileName);
                    for (int j = 0; j < count; j++)
                    {
                        ushort flags = U16(elf, aux + 4, fileName);
                        string name = CString(elf, strtab.Offset + U32(elf, aux + 8, fileName), fileName);
                        needs.Add(new ElfVersionNeed(file, name, flags, aux + 4));
                        uint nextAux = U32(elf, aux + 12, fileName);
                        if (nextAux == 0)
                        {
                            break;
                        }

                        aux += nextAux;
                    }

                    uint next = U32(elf, entry + 12, fileName);
                    if (next == 0)
                    {
                        break;
                    }

                    entry += next;
                }
            }

            return needs;
        }

        /// <summary>Every version the object defines (its GNU verdef section), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
        public static IReadOnlyList<string> ReadDefinitions(byte[] elf, string fileName)
        {
            var defs = new List<string>();
            foreach (var section in Sections(elf, fileName))
            {
                if (section.Type != ShtGnuVerdef)
                {
                    continue;
                }

                var strtab = SectionAt(elf, fileName, section.Link);
                long entry = section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    long aux = entry + U32(elf, entry + 12, fileName);
                    defs.Add(CString(elf, strtab.Offset + U32(elf, aux, fileName), fileName));
                    uint next = U32(elf, entry + 16, fileName);
                    if (next == 0)
                    {
                        break;
                    }

                    entry += next;
                }
            }

            return defs;
        }

        /// <summary>
        /// Returns a copy of <paramref name="elf"/> in which the need for <paramref name="version"/> carries
        /// VER_FLG_WEAK; every other byte is unchanged. Throws when the object does not need that version.
        /// </summary>
        public static byte[] MarkWeak(byte[] elf, string fileName, string version)
        {
            var copy = (byte[])elf.Clone();
            bool found = false;
            foreach (var need in ReadNeeds(elf, fileName))
            {
                if (need.Version == version)
                {
                    ushort flags = (ushort)(need.Flags | VerFlagWeak);
                    copy[need.FlagsOffset] = (byte)(flags & 0xff);
                    copy[need.FlagsOffset + 1] = (byte)(flags >> 8);
                    found = true;
                }
            }

            if (!found)
            {
                throw new InvalidDataException($"{fileName}: no symbol-version need named {version} (expected one in its .gnu.version_r section)");
            }

            return copy;
        }

        /// <summary>The system libstdc++.so.6 the dynamic loader would most likely pick, or null.</summary>
        public static string? FindSystemLibrary(string soname)
        {
            var dirs = new List<string>();
            string? ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath))
            {
                dirs.AddRange(ldPath.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            }

            dirs.AddRange(new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/usr/lib64", "/lib64", "/usr/lib", "/lib",
            });
            foreach (var dir in dirs)
            {
                string candidate = Path.Combine(dir, soname);
                if (System.IO.File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
        }

        private static IEnumerable<Section> Sections(byte[] elf, string fileName)
        {
            CheckHeader(elf, fileName);
            long shoff = (long)U64(elf, 0x28, fileName);
            ushort shentsize = U16(elf, 0x3A, fileName);
            ushort shnum = U16(elf, 0x3C, fileName);
            if (shoff == 0 || shnum == 0)
            {
                throw new InvalidDataException($"{fileName}: ELF file has no section headers (expected .gnu.version_r)");
            }

            for (uint i = 0; i < shnum; i++)
            {
                yield return ReadSection(elf, fileName, shoff + (i * shentsize));
            }
        }

        private static Section SectionAt(byte[] elf, string fileName, uint index)
        {
            long shoff = (long)U64(elf, 0x28, fileName);
            ushort shentsize = U16(elf, 0x3A, fileName);
            ushort shnum = U16(elf, 0x3C, fileName);
            if (index >= shnum)
            {
                throw new InvalidDataException($"{fileName}: section index {index} out of range (file has {shnum} sections)");
            }

            return ReadSection(elf, fileName, shoff + (index * shentsize));
        }

        private static Section ReadSection(byte[] elf, string fileName, long at) =>
            new Section(U32(elf, at + 4, fileName), (long)U64(elf, at + 24, fileName), (long)U64(elf, at + 32, fileName), U32(elf, at + 40, fileName), U32(elf, at + 44, fileName));

        private static void CheckHeader(byte[] elf, string fileName)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new InvalidDataException($"{fileName}: not an ELF file (expected magic 7F 45 4C 46)");
            }

            if (elf[4] != 2 || elf[5] != 1)
            {
                throw new InvalidDataException($"{fileName}: ELF class {elf[4]}, data {elf[5]}; expected ELF64 little-endian (2, 1)");
            }
        }

        private static void Check(byte[] elf, long at, int size, string fileName)
        {
            if (at < 0 || at + size > elf.Length)
            {
                throw new InvalidDataException($"{fileName}: truncated ELF file (read of {size} bytes at offset {at}, file is {elf.Length} bytes)");
            }
        }

        private static ushort U16(byte[] b, long at, string f)
        {
            Check(b, at, 2, f);
            return (ushort)(b[at] | (b[at + 1] << 8));
        }

        private static uint U32(byte[] b, long at, string f)
        {
            Check(b, at, 4, f);
            return (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
        }

        private static ulong U64(byte[] b, long at, string f) => U32(b, at, f) | ((ulong)U32(b, at + 4, f) << 32);

        private static string CString(byte[] b, long at, string f)
        {
            Check(b, at, 1, f);
            long end = at;
            while (end < b.Length && b[end] != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(b, (int)at, (int)(end - at));
        }
    }

#if !CNN_ELF_NO_TASK
    /// <summary>
    /// MSBuild task: when the system libstdc++ lacks <see cref="Version"/>, replaces the copy of the library in
    /// <see cref="Directory"/> (never the NuGet cache) with one whose need for it is weak.
    /// </summary>
    public sealed class PatchWeakSymbolVersion : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; } = "";

        public string LibraryName { get; set; } = "libLibTorchSharp.so";

        public string Version { get; set; } = "GLIBCXX_3.4.32";

        public string ProvidingLibrary { get; set; } = "libstdc++.so.6";

        /// <summary>
        /// Patch whatever this machine's libstdc++ defines: for output that runs elsewhere (the .NET tool package),
        /// where a weak need is harmless on systems that have the version and needed on those that do not.
        /// </summary>
        public bool Always { get; set; }

        public override bool Execute()
        {
            string target = Path.Combine(Directory, LibraryName);
            if (!System.IO.File.Exists(target) || !System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
            {
                return true;
            }

            string? system = ElfSymbolVersions.FindSystemLibrary(ProvidingLibrary);
            if (system == null && !Always)
            {
                Log.LogWarning($"{ProvidingLibrary} not found in the usual library folders; leaving {target} as shipped.");
                return true;
            }

            IReadOnlyList<string> defined = system == null ? System.Array.Empty<string>() : ElfSymbolVersions.ReadDefinitions(System.IO.File.ReadAllBytes(system), system);
            if (!Always && System.Linq.Enumerable.Contains(defined, Version))
            {
                return true;
            }

            byte[] original = System.IO.File.ReadAllBytes(target);
            bool alreadyWeak = true;
            foreach (var need in ElfSymbolVersions.ReadNeeds(original, target))
            {
                if (need.Version == Version && !need.IsWeak)
                {
                    alreadyWeak = false;
                }
            }

            if (alreadyWeak)
            {
                return true;
            }

            byte[] patched = ElfSymbolVersions.MarkWeak(original, target, Version);
            var stamp = System.IO.File.GetLastWriteTimeUtc(target);
            string temp = target + ".weak-tmp";
            System.IO.File.WriteAllBytes(temp, patched);
            System.IO.File.Replace(temp, target, null);
            // Keep the source's timestamp so MSBuild's incremental copy sees the file as up to date next build.
            System.IO.File.SetLastWriteTimeUtc(target, stamp);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                Always ? $"{target}: marked its need for {Version} weak (for machines whose libstdc++ lacks it)." : $"{target}: marked its need for {Version} weak ({system} does not define it).");
            return true;
        }
    }
#endif
}
