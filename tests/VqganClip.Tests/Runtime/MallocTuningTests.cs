using System.Runtime.InteropServices;
using TorchSharp;
using VqganClip.Models.Runtime;

namespace VqganClip.Tests.Runtime;

public class MallocTuningTests
{
    // glibc's struct mallinfo2 (all size_t): arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo();

    [Fact]
    public void After_initialisation_a_large_tensor_comes_from_the_heap_not_from_a_fresh_mmap()
    {
        if (!OperatingSystem.IsLinux()) return;
        TorchRuntime.EnsureInitialized();
        Assert.StartsWith("glibc", MallocTuning.Status);
        long mappedBefore = (long)MallInfo().HBlkHd;
        // 48 MiB: above glibc's largest dynamic mmap threshold (32 MiB), so by default always a fresh mmap; below the
        // 64 MiB heap size of a thread's arena, so with the tuning it comes from a heap whichever thread asks
        using (var big = torch.zeros(48L << 20 >> 2))
        {
            long mappedDuring = (long)MallInfo().HBlkHd;
            Assert.True(mappedDuring - mappedBefore < 1 << 20,
                $"a 48 MiB tensor was mmapped ({(mappedDuring - mappedBefore) >> 20} MiB more mapped blocks): {MallocTuning.Status}");
        }
    }

    [Fact]
    public void The_variable_set_to_default_leaves_malloc_alone_and_says_so()
    {
        if (!OperatingSystem.IsLinux()) return;
        var saved = Environment.GetEnvironmentVariable(MallocTuning.Variable);
        try
        {
            Environment.SetEnvironmentVariable(MallocTuning.Variable, "default");
            Assert.False(MallocTuning.Apply());
            Assert.Contains($"{MallocTuning.Variable}=default", MallocTuning.Status);
        }
        finally
        {
            Environment.SetEnvironmentVariable(MallocTuning.Variable, saved);
            Assert.True(MallocTuning.Apply());
        }
    }
}
