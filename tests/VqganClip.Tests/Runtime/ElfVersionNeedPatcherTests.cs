using System.Buffers.Binary;
using TorchSharp;
using VqganClip.Models.Runtime;

namespace VqganClip.Tests.Runtime;

public class ElfVersionNeedPatcherTests
{
    /// <summary>The pristine library as NuGet delivered it (the build output's copy may already be patched).</summary>
    private static string OriginalLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp 0.107.0's native library should be restored at {path}");
        return path;
    }

    [Fact]
    public void Removes_only_the_glibcxx_3_4_32_requirement_and_is_idempotent()
    {
        var original = File.ReadAllBytes(OriginalLibrary());
        Assert.True(ElfVersionNeedPatcher.Requires(original, "libstdc++.so.6", "GLIBCXX_3.4.32"));

        var patched = (byte[])original.Clone();
        var result = ElfVersionNeedPatcher.Patch(patched, "libstdc++.so.6", "GLIBCXX_3.4.32");
        Assert.True(result.Changed);
        Assert.True(result.SymbolsCleared >= 1);
        Assert.False(ElfVersionNeedPatcher.Requires(patched, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        // Other requirements of the same library are still there.
        Assert.True(ElfVersionNeedPatcher.Requires(patched, "libstdc++.so.6", "GLIBCXX_3.4.30"));
        Assert.Equal(original.Length, patched.Length);

        // Only a handful of bytes change: vn_cnt, one link field, and the versym entries.
        int changed = Enumerable.Range(0, original.Length).Count(i => original[i] != patched[i]);
        Assert.InRange(changed, 2, 4 + 2 * result.SymbolsCleared + 4);

        var again = (byte[])patched.Clone();
        Assert.False(ElfVersionNeedPatcher.Patch(again, "libstdc++.so.6", "GLIBCXX_3.4.32").Changed);
        Assert.Equal(patched, again);
    }

    [Fact]
    public void Refuses_what_is_not_an_elf64_little_endian_object_with_a_clear_message()
    {
        var notElf = new byte[128];
        var e1 = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(notElf, "libstdc++.so.6", "GLIBCXX_3.4.32", "some.so"));
        Assert.Contains("some.so", e1.Message);
        Assert.Contains("not an ELF file", e1.Message);

        var elf32 = File.ReadAllBytes(OriginalLibrary())[..256];
        elf32[4] = 1;
        Assert.Contains("64-bit", Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(elf32, "x", "y", "a.so")).Message);

        var bigEndian = File.ReadAllBytes(OriginalLibrary())[..256];
        bigEndian[5] = 2;
        Assert.Contains("little-endian", Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(bigEndian, "x", "y", "a.so")).Message);

        var truncated = File.ReadAllBytes(OriginalLibrary())[..4096];
        Assert.Contains("outside the file", Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(truncated, "x", "y", "t.so")).Message);

        var badSectionTable = File.ReadAllBytes(OriginalLibrary());
        BinaryPrimitives.WriteUInt16LittleEndian(badSectionTable.AsSpan(0x3a), 40);
        Assert.Contains("section header size", Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(badSectionTable, "x", "y", "b.so")).Message);
    }

    [Fact]
    public void Patched_file_is_written_atomically_and_keeps_a_hard_linked_original_intact()
    {
        var dir = Directory.CreateTempSubdirectory("elfpatch").FullName;
        try
        {
            var source = Path.Combine(dir, "source.so");
            File.Copy(OriginalLibrary(), source);
            var linked = Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            Directory.CreateDirectory(Path.GetDirectoryName(linked)!);
            using (var ln = System.Diagnostics.Process.Start("ln", new[] { source, linked })) { ln.WaitForExit(); Assert.Equal(0, ln.ExitCode); }

            var result = ElfVersionNeedPatcher.PatchFile(linked, "libstdc++.so.6", "GLIBCXX_3.4.32");
            Assert.True(result.Changed);
            Assert.True(ElfVersionNeedPatcher.Requires(File.ReadAllBytes(source), "libstdc++.so.6", "GLIBCXX_3.4.32"), "the hard-linked source must not change");
            Assert.False(ElfVersionNeedPatcher.Requires(File.ReadAllBytes(linked), "libstdc++.so.6", "GLIBCXX_3.4.32"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Runtime_fix_makes_a_cached_copy_that_the_dynamic_loader_accepts()
    {
        var original = OriginalLibrary();
        if (GlibcxxCompat.SystemRuntimeHasVersion)
        {
            Assert.False(GlibcxxCompat.NeedsFix(original)); // a modern libstdc++: nothing to do, nothing written
            return;
        }
        Assert.True(GlibcxxCompat.NeedsFix(original));
        // The pristine file is rejected by this machine's loader: that is the bug being fixed.
        Assert.False(System.Runtime.InteropServices.NativeLibrary.TryLoad(original, out _));

        // The copy lives away from libtorch.so & co; like NativeLoader, rely on them being loaded already (by soname).
        using (torch.ones(1)) { }
        var cache = Directory.CreateTempSubdirectory("native-cache").FullName;
        Environment.SetEnvironmentVariable("VQGANCLIP_NATIVE_CACHE", cache);
        try
        {
            var patched = GlibcxxCompat.PatchedCopy(original);
            Assert.StartsWith(cache, patched);
            Assert.Equal(patched, GlibcxxCompat.PatchedCopy(original)); // made once, keyed by content
            Assert.True(System.Runtime.InteropServices.NativeLibrary.TryLoad(patched, out var handle));
            Assert.NotEqual(IntPtr.Zero, System.Runtime.InteropServices.NativeLibrary.GetExport(handle, "THSTensor_ones"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("VQGANCLIP_NATIVE_CACHE", null);
        }
    }

    [Fact]
    public void TorchSharp_loads_and_computes_in_this_process()
    {
        using var x = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var y = x.matmul(x.t());
        Assert.Equal(new float[] { 5, 14, 14, 50 }, y.data<float>().ToArray());
        Assert.NotEqual("not checked", TorchRuntime.NativeFixStatus);
    }

    [Fact]
    public void Seeding_makes_random_draws_reproducible()
    {
        var g1 = TorchRuntime.Seed(123);
        using var a = torch.randn(new long[] { 8 }, generator: g1);
        var g2 = TorchRuntime.Seed(123);
        using var b = torch.randn(new long[] { 8 }, generator: g2);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        var g3 = TorchRuntime.Seed(124);
        using var c = torch.randn(new long[] { 8 }, generator: g3);
        Assert.NotEqual(a.data<float>().ToArray(), c.data<float>().ToArray());
    }
}
