using System.CommandLine;
using VqganClip.Models.Runtime;

namespace VqganClip.Cli.Commands;

/// <summary>The <c>--threads</c> option every command that runs torch shares, and applying it.</summary>
public static class ThreadsOption
{
    public static Option<int?> Create() => new("--threads")
    {
        Description = "Torch intra-op threads (default: libtorch's, one per core; waiting threads spin briefly then sleep " +
                      "unless OMP_WAIT_POLICY or GOMP_SPINCOUNT says otherwise, see docs/performance.md)",
    };

    /// <summary>Sets torch's intra-op threads when <paramref name="threads"/> is given; otherwise leaves libtorch's choice.</summary>
    public static void Apply(int? threads)
    {
        if (threads is int n) TorchRuntime.SetThreads(n);
    }
}
