using VqganClip.Models.IO;
using VqganClip.Models.Pix2Pix;
using static TorchSharp.torch;
using static VqganClip.Tests.Pix2Pix.Pix2PixTestSupport;

namespace VqganClip.Tests.Pix2Pix;

/// <summary>
/// Parity with junyanz/pytorch-CycleGAN-and-pix2pix (networks.py 7891385) on the pix2pix-tiny fixture, within its
/// tolerance (|ours − ref| ≤ 1e-4 + 1e-4·|ref|): the generator in evaluation and in training mode (dropout p = 0, as
/// the reference), the discriminator on the real pair, and one optimize_parameters step (losses, the first
/// convolution's updated weight, every generator batch norm's updated running mean).
/// </summary>
public class Pix2PixFixtureParityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private void Report(string what, double maxAbs) => output.WriteLine($"{what}: max |ours - ref| = {maxAbs:E2}");

    [Fact]
    public void Generator_Config_IsInferredFromTheStateDict()
    {
        using var g = LoadG();
        Assert.Equal(new UnetConfig(3, 3, 6, 8, Pix2PixNorm.Batch, true), g.Config);
    }

    [Fact]
    public void InitialWeights_HaveUpstreamNamesShapesAndInitStatistics()
    {
        // The reference's init (init_weights normal 0.02) and a fresh one here: same tensor names and shapes, and
        // the same distribution (conv weights N(0, 0.02), norm weights N(1, 0.02), biases 0).
        using var fixture = Checkpoint.Load(Fixture("init.safetensors"));
        manual_seed(3);
        using var g = new UnetGenerator(new UnetConfig(3, 3, 6, 8));
        using var d = new NLayerDiscriminator(DiscriminatorConfig);
        var ours = g.state_dict().Select(kv => ("G." + kv.Key, kv.Value)).Concat(d.state_dict().Select(kv => ("D." + kv.Key, kv.Value))).ToList();
        Assert.Equal(fixture.Keys.OrderBy(k => k, StringComparer.Ordinal), ours.Select(o => o.Item1).OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, tensor) in ours)
            Assert.Equal(fixture[name].shape, tensor.shape);

        foreach (var (name, tensor) in ours.Where(o => o.Item2.dim() == 4))
        {
            var std = tensor.std().item<float>();
            var refStd = fixture[name].std().item<float>();
            Assert.InRange(std, 0.015, 0.025);
            Assert.InRange(refStd, 0.015, 0.025);
            Assert.InRange(tensor.mean().item<float>(), -0.005, 0.005);
        }
        foreach (var (name, tensor) in ours.Where(o => o.Item1.EndsWith(".bias")))
            Assert.Equal(0, tensor.abs().max().item<float>());
        foreach (var (name, tensor) in ours.Where(o => o.Item2.dim() == 1 && o.Item1.EndsWith(".weight")))
            Assert.InRange(tensor.mean().item<float>(), 0.98, 1.02);
    }

    /// <summary>
    /// The reference computed G_eval right after init_weights, with fresh statistics (mean 0, var 1); the running
    /// statistics init.safetensors holds are those after the one training-mode forward on inputs.A that followed
    /// (<see cref="Generator_TrainModeForward_UpdatesRunningStatisticsAsTheReference"/> checks that).
    /// </summary>
    [Fact]
    public void Generator_EvalMode_MatchesReference()
    {
        using var io = Io();
        using var g = LoadG();
        ResetRunningStatistics(g);
        using var generated = g.Generate(io["inputs.A"], trainMode: false);
        Report("G eval", AssertClose(io["outputs.G_eval"], generated, "G eval"));
    }

    [Fact]
    public void Generator_TrainModeForward_UpdatesRunningStatisticsAsTheReference()
    {
        using var io = Io();
        using var g = LoadG();
        var saved = g.state_dict().Where(kv => kv.Key.Contains("running_")).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        ResetRunningStatistics(g);
        g.DropoutProbability = 0;
        g.train();
        using (no_grad()) g.forward(io["inputs.A"]).Dispose();
        var state = g.state_dict();
        Assert.Equal(18, saved.Count);
        foreach (var (name, expected) in saved)
            Report(name, AssertClose(expected, state[name], name));
    }

    private static void ResetRunningStatistics(UnetGenerator g)
    {
        using var _ = no_grad();
        foreach (var (name, t) in g.state_dict())
        {
            if (name.EndsWith(".running_mean", StringComparison.Ordinal)) t.zero_();
            if (name.EndsWith(".running_var", StringComparison.Ordinal)) t.fill_(1);
            if (name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) t.zero_();
        }
    }

    [Fact]
    public void Generator_TrainMode_WithoutDropout_MatchesReference_AndKeepsRunningStatistics()
    {
        using var io = Io();
        using var g = LoadG();
        g.DropoutProbability = 0;
        var before = g.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var result = g.Generate(io["inputs.A"], trainMode: true);
        Report("G train mode, dropout 0", AssertClose(io["outputs.G_train_nodropout"], result, "G train mode, dropout 0"));
        foreach (var (name, tensor) in g.state_dict())
            Assert.True(before[name].eq(tensor).all().item<bool>(), $"{name} changed by a Generate call");
        Assert.False(g.training);
        // With dropout on (p 0.5) the same call is stochastic and differs from the reference.
        g.DropoutProbability = 0.5;
        using var noisy = g.Generate(io["inputs.A"], trainMode: true);
        Assert.True((noisy - io["outputs.G_train_nodropout"]).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void Generator_FromPth_EqualsFromSafetensors()
    {
        using var fromPth = LoadG("init.pth");
        using var fromSt = LoadG();
        var a = fromSt.state_dict();
        foreach (var (name, tensor) in fromPth.state_dict())
            Assert.True(a[name].eq(tensor).all().item<bool>(), name);
    }

    [Fact]
    public void Discriminator_EvalMode_OnTheRealPair_MatchesReference()
    {
        using var io = Io();
        using var d = LoadD();
        using var _ = no_grad();
        using var scores = d.forward(cat([io["inputs.A"], io["inputs.B"]], 1));
        Report("D eval on the real pair", AssertClose(io["outputs.D_eval_real"], scores, "D(cat(A, B)) eval"));
    }

    [Fact]
    public void OneOptimisationStep_MatchesReference()
    {
        using var io = Io();
        using var g = LoadG();
        using var d = LoadD();
        g.DropoutProbability = 0;
        using var objective = new Pix2PixObjective(g, d, GanMode.Sigmoid, lambdaL1: 100);
        var losses = objective.OptimizeParameters(io["inputs.A"], io["inputs.B"]);
        var reference = io["step1.losses_D_GGAN_L1"];
        Report("step losses [D, G_GAN, L1]", AssertClose(reference, tensor(new[] { (float)losses.D, (float)losses.GGan, (float)losses.L1 }), "losses [D, G_GAN, L1]"));

        var state = g.state_dict();
        int compared = 0;
        foreach (var name in io.Keys.Where(k => k.StartsWith("step1.G.", StringComparison.Ordinal)))
        {
            Report(name, AssertClose(io[name], state[name["step1.G.".Length..]], name));
            compared++;
        }
        Assert.Equal(10, compared);
    }
}
