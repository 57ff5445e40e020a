using VqganClip.Cli.Commands;
using VqganClip.Tests.Guidance;

namespace VqganClip.Tests.StyleGan;

/// <summary><c>bench stylegan</c> on a 32-px StyleGAN2 of the published shape with the tiny CLIP: the figures' structure, never a time.</summary>
public class BenchStyleGanTests
{
    [Fact]
    public void The_bench_times_styleclip_steps_and_reports_memory()
    {
        var figures = BenchStyleGanCommand.Run(new BenchStyleGanCommand.Settings { Sizes = [32], Steps = 2, WarmupSteps = 0, ClipPath = TinyModels.ClipPath });
        var row = Assert.Single(figures.Rows);
        Assert.Equal(32, row.Size);
        Assert.Equal(2, row.StepSeconds.Count);
        Assert.All(row.StepSeconds, s => Assert.True(s > 0));
        Assert.True(row.GeneratorSeconds > 0);
        Assert.True(row.PeakRssMb > 0);
        // upstream's config-f at 32 px: mapping 8 x (512·512 + 512), const 512·16, conv1, 3 blocks of 512 channels
        Assert.InRange(row.Parameters, 15_000_000, 25_000_000);
        var json = BenchStyleGanCommand.ToJson(figures);
        Assert.Equal(32, (int)json["rows"]![0]!["size"]!);
        Assert.Throws<ArgumentException>(() => BenchStyleGanCommand.Run(new BenchStyleGanCommand.Settings { Sizes = [48] }));
    }
}
