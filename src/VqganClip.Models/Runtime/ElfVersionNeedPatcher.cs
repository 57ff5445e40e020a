// Hand-written: no served package edits ELF symbol-version tables. This is the smallest edit that
// lets TorchSharp 0.107's libLibTorchSharp.so load on a C++ runtime older than GCC 13's.
//
// Why it is safe: GCC 13 emits a bare, relocation-free reference to `_ZSt21ios_base_library_initv`
// versioned GLIBCXX_3.4.32 into every object that includes <iostream>. Nothing calls it; it only makes
// the dynamic loader demand that version from libstdc++.so.6. We remove that one requirement from the
// `.gnu.version_r` (SHT_GNU_verneed) table and mark the symbols that used it as unversioned in
// `.gnu.version` (SHT_GNU_versym). Every other byte is left as it was; the file size does not change.
//
// Pure System code on purpose: the build (an MSBuild inline task) calls it too.
using System.Buffers.Binary;
using System.Text;

namespace VqganClip.Models.Runtime;

/// <summary>Removes one symbol-version requirement (e.g. GLIBCXX_3.4.32 of libstdc++.so.6) from an ELF64 little-endian shared object.</summary>
public static class ElfVersionNeedPatcher
{
    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const ushort VerNdxGlobal = 1;

    /// <summary>The result of <see cref="Patch"/>.</summary>
    /// <param name="Changed">True when the requirement was found and removed.</param>
    /// <param name="SymbolsCleared">How many <c>.gnu.version</c> entries pointed at the removed version.</param>
    public readonly record struct PatchResult(bool Changed, int SymbolsCleared);

    /// <summary>True when the ELF image requires <paramref name="version"/> from <paramref name="library"/>.</summary>
    public static bool Requires(ReadOnlySpan<byte> elf, string library, string version, string what = "ELF image")
    {
        var image = elf.ToArray();
        return FindRequirement(image, library, version, what) is not null;
    }

    /// <summary>
    /// Removes the requirement of <paramref name="version"/> from <paramref name="library"/> in place.
    /// Idempotent: a second call changes nothing and returns <c>Changed = false</c>.
    /// Throws <see cref="InvalidDataException"/> (naming <paramref name="what"/>) for anything that is not a well-formed ELF64 LE object.
    /// </summary>
    public static PatchResult Patch(byte[] elf, string library, string version, string what = "ELF image")
    {
        var found = FindRequirement(elf, library, version, what);
        if (found is null) return new PatchResult(false, 0);
        var r = found.Value;
        var span = elf.AsSpan();

        // Unlink the auxiliary entry from the library's chain.
        uint next = U32(span, r.Aux + 12);
        if (r.PreviousAux < 0)
        {
            if (next == 0) throw Bad(what, $"{version} is the only version required from {library}; refusing to leave an empty requirement");
            W32(span, r.Verneed + 8, U32(span, r.Verneed + 8) + next); // vn_aux now points past it
        }
        else
        {
            uint prevNext = U32(span, r.PreviousAux + 12);
            W32(span, r.PreviousAux + 12, next == 0 ? 0 : prevNext + next);
        }
        W16(span, r.Verneed + 2, (ushort)(U16(span, r.Verneed + 2) - 1)); // vn_cnt

        // Symbols that named that version become plain global (unversioned) references.
        int cleared = 0;
        for (long i = 0; i < r.VersymCount; i++)
        {
            long at = r.VersymOffset + 2 * i;
            ushort v = U16(span, at);
            if ((v & 0x7fff) == r.VersionIndex)
            {
                W16(span, at, VerNdxGlobal);
                cleared++;
            }
        }
        return new PatchResult(true, cleared);
    }

    /// <summary>Patches a file atomically (write a sibling temp file, then rename over), so a hard link to a package cache is never written through.</summary>
    public static PatchResult PatchFile(string path, string library, string version)
    {
        var bytes = File.ReadAllBytes(path);
        var result = Patch(bytes, library, version, path);
        if (!result.Changed) return result;
        WriteAtomically(path, bytes);
        return result;
    }

    /// <summary>Writes bytes to <paramref name="path"/> through a temp file and a rename, keeping the original's permissions.</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        string temp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temp, bytes);
        if (!OperatingSystem.IsWindows() && File.Exists(path))
            File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
        File.Move(temp, path, overwrite: true);
    }

    private readonly record struct Requirement(long Verneed, long Aux, long PreviousAux, ushort VersionIndex, long VersymOffset, long VersymCount);

    private static Requirement? FindRequirement(byte[] elf, string library, string version, string what)
    {
        var s = elf.AsSpan();
        if (s.Length < 64 || s[0] != 0x7f || s[1] != (byte)'E' || s[2] != (byte)'L' || s[3] != (byte)'F')
            throw Bad(what, "not an ELF file (bad magic)");
        if (s[4] != 2) throw Bad(what, "not a 64-bit ELF file (EI_CLASS != ELFCLASS64)");
        if (s[5] != 1) throw Bad(what, "not a little-endian ELF file (EI_DATA != ELFDATA2LSB)");

        ulong shoff = U64(s, 0x28);
        ushort shentsize = U16(s, 0x3a), shnum = U16(s, 0x3c);
        if (shentsize != 64) throw Bad(what, $"unexpected section header size {shentsize} (expected 64)");
        if (shnum == 0 || shoff == 0 || shoff > (ulong)s.Length || (ulong)shnum * 64 > (ulong)s.Length - shoff)
            throw Bad(what, "section header table lies outside the file");

        long verneedOff = -1, verneedSize = 0, versymOff = -1, versymSize = 0; uint verneedLink = 0, verneedInfo = 0;
        var sections = new (uint Type, long Offset, long Size)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            long h = (long)shoff + 64L * i;
            uint type = U32(s, h + 4);
            ulong off = U64(s, h + 0x18), size = U64(s, h + 0x20);
            if (type != 8 /* SHT_NOBITS */ && (off > (ulong)s.Length || size > (ulong)s.Length - off))
                throw Bad(what, $"section {i} lies outside the file");
            sections[i] = (type, (long)off, (long)size);
            if (type == ShtGnuVerneed) { verneedOff = (long)off; verneedSize = (long)size; verneedLink = U32(s, h + 0x28); verneedInfo = U32(s, h + 0x2c); }
            else if (type == ShtGnuVersym) { versymOff = (long)off; versymSize = (long)size; }
        }
        if (verneedOff < 0) return null; // no version requirements at all
        if (versymOff < 0) throw Bad(what, "has .gnu.version_r but no .gnu.version table");
        if (verneedLink >= shnum) throw Bad(what, "version-requirement table links to a missing string table");
        var strtab = sections[verneedLink];

        long vn = verneedOff;
        for (uint n = 0; n < Math.Max(verneedInfo, 1u) && vn >= 0; n++)
        {
            Check(what, vn, 16, verneedOff, verneedSize);
            ushort cnt = U16(s, vn + 2);
            string file = Str(s, strtab, U32(s, vn + 4), what);
            long aux = vn + U32(s, vn + 8), prevAux = -1;
            for (int a = 0; a < cnt; a++)
            {
                Check(what, aux, 16, verneedOff, verneedSize);
                string name = Str(s, strtab, U32(s, aux + 8), what);
                if (file == library && name == version)
                    return new Requirement(vn, aux, prevAux, (ushort)(U16(s, aux + 6) & 0x7fff), versymOff, versymSize / 2);
                uint nextAux = U32(s, aux + 12);
                if (nextAux == 0) break;
                prevAux = aux; aux += nextAux;
            }
            uint nextVn = U32(s, vn + 12);
            if (nextVn == 0) break;
            vn += nextVn;
        }
        return null;
    }

    private static void Check(string what, long at, long len, long tableOff, long tableSize)
    {
        if (at < tableOff || at + len > tableOff + tableSize) throw Bad(what, "version-requirement entry points outside its table");
    }

    private static string Str(ReadOnlySpan<byte> s, (uint Type, long Offset, long Size) strtab, uint index, string what)
    {
        if (index >= strtab.Size) throw Bad(what, "string index outside the dynamic string table");
        var rest = s.Slice((int)(strtab.Offset + index), (int)(strtab.Size - index));
        int end = rest.IndexOf((byte)0);
        if (end < 0) throw Bad(what, "unterminated string in the dynamic string table");
        return Encoding.ASCII.GetString(rest[..end]);
    }

    private static InvalidDataException Bad(string what, string problem) => new($"{what}: {problem}.");
    private static ushort U16(ReadOnlySpan<byte> s, long at) => BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(checked((int)at), 2));
    private static uint U32(ReadOnlySpan<byte> s, long at) => BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(checked((int)at), 4));
    private static ulong U64(ReadOnlySpan<byte> s, long at) => BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(checked((int)at), 8));
    private static void W16(Span<byte> s, long at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(checked((int)at), 2), v);
    private static void W32(Span<byte> s, long at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(checked((int)at), 4), v);
}
