using VqganClip.Models.IO;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Transformer;

/// <summary>
/// The sliding-window sampler of taming's notebook on fixtures/taming-transformer-window-tiny: a 20×20 code grid,
/// larger than the 16×16 window, conditioned on the first stage's codes (block_size 512 = 256 + 256), top-k 20 then
/// argmax. Final codes and every step's window position must equal the upstream run's.
/// </summary>
public sealed class SlidingWindowParityTests
{
    public SlidingWindowParityTests() => EnsureTorch();

    private static Net2NetTransformer OpenWithYaml()
    {
        var yaml = Path.Combine(TempDir(), "window-project.yaml");
        File.WriteAllText(yaml, ProjectYaml(Window));
        return Net2NetTransformer.Load(Fixture(Window, "last.safetensors"), yaml, device: CPU);
    }

    [Fact]
    public void Plan_matches_the_recorded_crops()
    {
        using var io = SafeTensors.Read(Fixture(Window, "io.safetensors"));
        var grid = Manifest(Window)["grid"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        var plan = SlidingWindowSampler.Plan(grid[0], grid[1], 16);
        using var planned = tensor(plan.SelectMany(s => new long[] { s.I, s.J, s.LocalI, s.LocalJ, s.IStart, s.JStart }).ToArray()).reshape(-1, 6);
        AssertIdentical(io["outputs.crops"], planned, "window plan");
    }

    [Fact]
    public void Sliding_window_codes_and_steps_match()
    {
        using var model = OpenWithYaml();
        Assert.Equal(ConditioningKind.FirstStage, model.Config.Conditioning.Kind);
        using var io = SafeTensors.Read(Fixture(Window, "io.safetensors"));
        var start = io["inputs.start_codes"];
        using var startBefore = start.clone();
        var steps = new List<SlidingWindowStep>();
        var options = new SamplingOptions { TopK = 20, Sample = false };
        using var codes = model.SampleSlidingWindow(start, io["inputs.cond_codes"], options, window: 16, onStep: (step, _) => steps.Add(step));
        AssertIdentical(io["outputs.codes"], codes, "codes after the sliding window");
        using var reported = tensor(steps.SelectMany(s => new long[] { s.I, s.J, s.LocalI, s.LocalJ, s.IStart, s.JStart }).ToArray()).reshape(-1, 6);
        AssertIdentical(io["outputs.crops"], reported, "each step's (i, j, local_i, local_j, i_start, j_start)");
        AssertIdentical(startBefore, start, "the starting codes are not modified");
    }

    [Fact]
    public void First_stage_conditioning_is_inferred_from_shared_weights()
    {
        // upstream saves the shared first stage twice (first_stage_model.* and cond_stage_model.*): equal tensors mean __is_first_stage__
        var dir = TempDir();
        var copy = Path.Combine(dir, "weights.safetensors");
        File.Copy(Fixture(Window, "last.safetensors"), copy);
        using var model = Net2NetTransformer.Load(copy, hints: new TransformerLoadHints { NHead = 2 }, device: CPU);
        Assert.Equal(ConditioningKind.FirstStage, model.Config.Conditioning.Kind);
        Assert.Equal(512, model.Config.Gpt.BlockSize);
        var stage = Assert.IsType<VqganConditioningStage>(model.CondStage);
        Assert.True(stage.IsFirstStage);
        Assert.Same(model.FirstStage, stage.Model);
    }

    [Fact]
    public void Sliding_window_with_a_sequence_prefix_runs_and_samples_every_cell()
    {
        using var scope = NewDisposeScope();
        var config = new GptConfig { VocabSize = 20, BlockSize = 20, NLayer = 1, NHead = 2, NEmbd = 16 };
        using var gpt = new Gpt(config, new Generator(5));
        var codes = zeros(new long[] { 2, 6, 5 }, ScalarType.Int64);
        var prefix = tensor(new long[] { 3, 7 }).reshape(2, 1);
        int calls = 0;
        var result = SlidingWindowSampler.Sample(gpt, codes, prefix, new SamplingOptions { Generator = new Generator(3) }, window: 4, onStep: (_, _) => calls++);
        Assert.Equal(30, calls);
        Assert.Equal(new long[] { 2, 6, 5 }, result.shape);
        Assert.True(result.ge(0).logical_and(result.lt(20)).all().item<bool>());
        Assert.True(gpt.training); // mode restored
    }
}
