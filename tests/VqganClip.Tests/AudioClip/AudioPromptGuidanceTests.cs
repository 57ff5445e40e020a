using System.Buffers.Binary;
using VqganClip.Guidance;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.AudioClip;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.AudioClip.AudioClipTestSupport;

namespace VqganClip.Tests.AudioClip;

/// <summary>Audio prompts on the audioclip-tiny fixture: the WAV path, the loss's direction and sign, checks, resume.</summary>
public sealed class AudioPromptGuidanceTests : IDisposable
{
    static AudioPromptGuidanceTests() => TransformerTestSupport.EnsureTorch();

    private readonly AudioClipModel _model = Load();
    private readonly string _dir = TempDir();

    public void Dispose()
    {
        _model.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>The fixture's first signal as a 44.1 kHz float WAV (samples / 32768: exact, a power of two).</summary>
    private string FixtureWav()
    {
        using var io = Io();
        var samples = io["inputs.audio"][0, 0].data<float>().ToArray();
        var bytes = new byte[samples.Length * 4];
        for (int i = 0; i < samples.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), samples[i] / 32768f);
        return TestWav.Write(_dir, "fixture.wav", TestWav.Build(3, 1, 44100, 32, bytes));
    }

    [Fact]
    public void Audio_prompt_from_a_wav_embeds_exactly_what_the_model_embeds_from_the_samples()
    {
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var fromWav = AudioPrompt.Embed(_model, FixtureWav());
        var direct = _model.EncodeAudio(io["inputs.audio"].narrow(0, 0, 1));
        Assert.Equal(new long[] { 1, 32 }, fromWav.shape);
        Assert.Equal(0f, (fromWav - direct).abs().max().item<float>());
        using var prompt = new PromptEncoder(_model.Clip!, _model).Encode(PromptSpec.FromAudio(FixtureWav(), 2.0), new OriginalCutouts(64, 4, 1.0), new Generator(1), 64, 64);
        Assert.Equal(2.0, prompt.Weight);
        Assert.Equal("audio:fixture.wav (2)", prompt.Label);
        var expected = direct / direct.norm(-1, keepdim: true);
        Assert.True((prompt.Embedding - expected).abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void Audio_prompt_syntax_takes_a_weight_and_a_stop_like_text_prompts()
    {
        var spec = PromptParser.ParseAudio("birds\\:dawn.wav:-0.5:0.25");
        Assert.Equal((PromptSource.Audio, "birds:dawn.wav", -0.5, 0.25), (spec.Source, spec.Text, spec.Weight, spec.Stop));
        Assert.Equal("birds\\:dawn.wav:-0.5:0.25", spec.ToString()); // written back as parsed
        Assert.Equal("audio:birds:dawn.wav (-0.5)", spec.ToLabel());
        Assert.Equal(1.0, PromptParser.ParseAudio("x.wav").Weight);
        Assert.Throws<PromptParseException>(() => PromptParser.ParseAudio("  "));
    }

    [Fact]
    public void Audio_prompt_stop_keeps_the_loss_but_cuts_its_gradient_below_the_stop()
    {
        using var io = Io();
        using var scope = NewDisposeScope();
        Tensor target;
        using (no_grad()) target = _model.EncodeAudio(io["inputs.audio"].narrow(0, 0, 1));
        var image = io["inputs.images"].narrow(0, 0, 1).clone().requires_grad_(true);
        using var free = new Prompt(PromptSpec.FromAudio("a.wav"), target);
        var loss = free.Loss(_model.Clip!.EncodeImage(image));
        loss.backward();
        Assert.True(image.grad!.abs().sum().item<float>() > 0);
        using var stopped = new Prompt(PromptSpec.FromAudio("a.wav", stop: loss.item<float>() + 0.1), target);
        var image2 = io["inputs.images"].narrow(0, 0, 1).clone().requires_grad_(true);
        var loss2 = stopped.Loss(_model.Clip.EncodeImage(image2));
        Assert.Equal(loss.item<float>(), loss2.item<float>(), 5); // the value is kept
        loss2.backward();
        Assert.Equal(0f, image2.grad!.abs().sum().item<float>()); // below the stop: no pull
    }

    private GuidedRun Run(double weight, long seed = 1)
    {
        var spec = PromptSpec.FromAudio(FixtureWav(), weight);
        var script = new PromptScript("", new[] { (IReadOnlyList<PromptSpec>)new[] { spec } });
        return new GuidedRun(new PixelGenerator(48, 48), _model.Clip!, script,
            new GuidanceOptions { CutCount = 4, Seed = seed, CutMethod = CutMethod.Original }, audio: _model);
    }

    /// <summary>
    /// On the same fixed cutouts (<see cref="GuidedRun.Evaluate"/>): 60 steps towards the sound shorten the distance,
    /// 60 steps with weight −1 lengthen it (its loss is −distance, which falls). The tiny random CLIP moves slowly
    /// (about 1.4% in 60 steps), so the margin is absolute, 0.005, three times smaller than the change measured.
    /// </summary>
    [Fact]
    public void Audio_prompt_pulls_the_picture_towards_the_sound_and_a_negative_weight_pushes_it_away()
    {
        double towardsAfter, awayAfter;
        using (var towards = Run(1.0))
        {
            var before = towards.Evaluate(cutCount: 8, seed: 5).Total;
            towards.Step(60);
            towardsAfter = towards.Evaluate(cutCount: 8, seed: 5).Total;
            Assert.True(towardsAfter < before - 0.005, $"distance to the sound {before:F4} -> {towardsAfter:F4}");
        }
        using (var away = Run(-1.0))
        {
            var before = away.Evaluate(cutCount: 8, seed: 5).Total;   // −distance
            Assert.True(before < 0);
            away.Step(60);
            awayAfter = away.Evaluate(cutCount: 8, seed: 5).Total;
            Assert.True(awayAfter < before - 0.005, $"−distance to the sound {before:F4} -> {awayAfter:F4} (the distance must grow)");
        }
        Assert.True(towardsAfter < -awayAfter, "the picture pulled towards the sound must end nearer to it than the one pushed away");
    }

    [Fact]
    public void Audio_prompt_errors_say_what_is_missing()
    {
        var recipe = RunRecipe.Default with { Generator = "pixels", Prompt = null, AudioPrompts = [FixtureWav()], Size = "48" };
        var noModel = Assert.Throws<ArgumentException>(() => recipe.CreateRun(_model.Clip!, null));
        Assert.Equal("Audio prompts need an AudioCLIP model (generate --audioclip FILE).", noModel.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => (recipe with { AudioPrompts = ["nope.wav:2"] }).CreateRun(_model.Clip!, null, audio: _model));
        Assert.Equal("The audio prompt 'nope.wav' does not exist.", missing.Message);
        using var other = new AudioClipModel(_model.Config with { EmbedDim = 16 });
        var space = Assert.Throws<ArgumentException>(() => recipe.CreateRun(_model.Clip!, null, audio: other));
        Assert.StartsWith("The AudioCLIP audio head embeds into 16 dimensions but the CLIP into 32: they do not share a space.", space.Message);
        var transformer = Assert.Throws<ArgumentException>(() => (recipe with { Generator = "transformer" }).ToTransformerRequest());
        Assert.Contains("Audio prompts guide the loop generators", transformer.Message);
    }

    [Fact]
    public void Audio_prompt_run_resumes_without_the_audio_model()
    {
        var dir = Path.Combine(_dir, "run");
        using var straight = Run(1.0, seed: 3);
        straight.Step(4);
        using (var first = Run(1.0, seed: 3))
        {
            first.Step(2);
            first.Save(dir);
        }
        using var resumed = GuidedRun.Resume(dir, _model.Clip!);
        resumed.Step(2);
        Assert.Equal(straight.History.Select(h => h.Total), resumed.History.Select(h => h.Total));
        Assert.Equal(PromptSource.Audio, Assert.Single(resumed.ExtraPrompts.Concat(resumed.Script.All)).Source);
    }
}
