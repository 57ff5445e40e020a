using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Training.AudioClip;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.AudioClip;

/// <summary>
/// The clipart audio-head trainer on a tiny head (256-point basis, 16 channels everywhere) against a tiny random CLIP
/// (embed 32), 8 spoken captions, batch 4: what moves, what stays frozen, exact resume, the export.
/// </summary>
public sealed class AudioClipTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("audioclip-trainer-").FullName;
    private readonly ClipModel _clip;

    public AudioClipTrainerTests()
    {
        using (var _ = Models.Runtime.TorchRuntime.Seed(3)) _clip = new ClipModel(TinyClip().Model);
        _clip.eval();
    }

    public void Dispose()
    {
        _clip.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private AudioClipTrainingOptions Tiny(long steps = 3, long frozen = long.MaxValue, long frozenBn = 0) => new()
    {
        Steps = steps,
        FrozenBatchNormSteps = frozenBn,
        LengthWindow = 6,
        BatchSize = 4,
        TrainingClips = 8,
        WarmupSteps = 1,
        FrozenFbspSteps = frozen,
        Seed = 5,
        CacheDirectory = Path.Combine(_dir, "spoken"),
        NFft = 256,
        WinLength = 256,
        HopLength = 882,
        StemWidth = 16,
        Blocks = [1, 1, 1, 1],
        Widths = [16, 16, 16, 16],
        Outputs = [16, 16, 16, 16],
        Groups = 4,
    };

    [Fact]
    public void A_step_moves_the_head_but_neither_the_frozen_basis_nor_the_CLIP() => SingleThreaded(() =>
    {
        using var trainer = new AudioClipTrainer(Tiny(), _clip);
        var clipBefore = StateSnapshot(_clip);
        var before = StateSnapshot(trainer.Model);
        var losses = trainer.TrainStep();
        Assert.True(double.IsFinite(losses["loss"]));
        var after = trainer.Model.state_dict();
        foreach (var name in new[] { "audio.conv1.weight", "audio.layer4.0.conv3.weight", "audio.att5.conv_point.weight", "audio.fc.weight", "audio.bn1.running_mean", "logit_scale_at" })
            Assert.False(Same(before[name], after[name]), $"'{name}' did not move");
        foreach (var name in new[] { "audio.fbsp.m", "audio.fbsp.fb", "audio.fbsp.fc", "audio.window" })
            Assert.True(Same(before[name], after[name]), $"'{name}' moved while the basis is frozen");
        foreach (var (name, tensor) in _clip.state_dict())
            Assert.True(Same(clipBefore[name], tensor), $"the frozen CLIP's '{name}' moved");
        Assert.All(_clip.parameters(), p => Assert.False(p.requires_grad));
        Assert.Equal(_clip.EmbedDim, trainer.Model.EmbedDim);
    });

    [Fact]
    public void After_the_frozen_steps_the_basis_learns_too() => SingleThreaded(() =>
    {
        using var trainer = new AudioClipTrainer(Tiny(frozen: 1), _clip);
        trainer.TrainStep();
        var before = StateSnapshot(trainer.Model);
        Assert.True(trainer.FbspLearning);
        trainer.TrainStep();
        Assert.False(Same(before["audio.fbsp.fc"], trainer.Model.state_dict()["audio.fbsp.fc"]), "the basis did not learn");
    });

    [Fact]
    public void Resume_continues_exactly_across_the_unfreezing_and_the_batch_norm_freeze() => SingleThreaded(() =>
        AssertResumesExactly(Tiny(steps: 3, frozen: 2, frozenBn: 1), "checkpoint",
            resumed => Assert.Equal(1, resumed.Step)));

    /// <summary>
    /// Three steps straight against one step, a checkpoint, and a resumed trainer (checked by
    /// <paramref name="checkResumed"/>) running the other two: the weights must match exactly.
    /// </summary>
    private void AssertResumesExactly(AudioClipTrainingOptions options, string checkpointName, Action<AudioClipTrainer> checkResumed)
    {
        var checkpoint = Path.Combine(_dir, checkpointName);
        using var straight = new AudioClipTrainer(options, _clip);
        straight.TrainStep();
        straight.SaveCheckpoint(checkpoint);
        while (straight.Step < 3) straight.TrainStep();

        using var resumed = AudioClipTrainer.Resume(checkpoint, clip: _clip);
        checkResumed(resumed);
        while (resumed.Step < 3) resumed.TrainStep();
        var expected = straight.Model.state_dict();
        foreach (var (name, tensor) in resumed.Model.state_dict())
            Assert.True(Same(tensor, expected[name]), $"'{name}' differs after resuming");
    }

    private AudioClipTrainingOptions Augmented(long steps = 3, long frozenBn = 0) => Tiny(steps, frozenBn: frozenBn) with
    {
        WideVoices = true,
        AugGainDb = 6,
        AugFreqWarp = 0.1,
        AugTimeMasks = 2,
        AugTimeMaskFrames = 3,
        AugFreqMasks = 2,
        AugFreqMaskBins = 4,
    };

    [Fact]
    public void Resume_continues_exactly_with_augmentation_and_wide_voices() => SingleThreaded(() =>
        AssertResumesExactly(Augmented(steps: 3, frozenBn: 1), "checkpoint-aug", resumed =>
        {
            Assert.True(resumed.Options.WideVoices);
            Assert.Equal(6, resumed.Options.AugGainDb);
        }));

    [Fact]
    public void Augmentation_changes_what_a_step_sees_and_the_same_seed_repeats_it() => SingleThreaded(() =>
    {
        var plain = Tiny(steps: 2);
        var augmented = plain with { AugGainDb = 6, AugFreqWarp = 0.1, AugTimeMasks = 2, AugTimeMaskFrames = 3 };
        using var a = new AudioClipTrainer(plain, _clip);
        using var b = new AudioClipTrainer(augmented, _clip);
        using var c = new AudioClipTrainer(augmented, _clip);
        var la = a.TrainStep()["loss"];
        var lb = b.TrainStep()["loss"];
        var lc = c.TrainStep()["loss"];
        Assert.NotEqual(la, lb);
        Assert.Equal(lb, lc);
    });

    [Fact]
    public void The_last_steps_run_with_batch_norm_statistics_measured_afresh_and_frozen() => SingleThreaded(() =>
    {
        using var trainer = new AudioClipTrainer(Tiny(steps: 3, frozenBn: 2), _clip);
        Assert.False(trainer.BatchNormFrozen);
        trainer.TrainStep();   // step 0: live statistics
        Assert.True(trainer.BatchNormFrozen);
        trainer.TrainStep();   // step 1: calibrates, then trains in evaluation mode
        var calibrated = StateSnapshot(trainer.Model);
        trainer.TrainStep();
        var after = trainer.Model.state_dict();
        Assert.True(Same(calibrated["audio.bn1.running_mean"], after["audio.bn1.running_mean"]), "frozen statistics moved");
        Assert.False(Same(calibrated["audio.bn1.weight"], after["audio.bn1.weight"]), "the norm's scale stopped learning");
    });

    [Fact]
    public void The_export_reloads_through_AudioClipLoader_with_the_same_embeddings() => SingleThreaded(() =>
    {
        using var trainer = new AudioClipTrainer(Tiny(steps: 1), _clip);
        trainer.TrainStep();
        var path = Path.Combine(_dir, "head.safetensors");
        trainer.Export(path);
        using var loaded = AudioClipLoader.Load(path);
        Assert.Null(loaded.Clip);
        Assert.Equal(trainer.Model.Config.Describe(), loaded.Config.Describe());
        Assert.Equal(trainer.Model.AudioTextScale, loaded.AudioImageScale, 5);

        using var samples = AudioClipInput.Load(SpokenCaptions.Synthesize(trainer.Clips.Take(1).ToList(), Tiny().CacheDirectory)[0], loaded.Config);
        trainer.Model.eval();
        using var _ = no_grad();
        using var a = trainer.Model.EncodeAudio(samples);
        using var b = loaded.EncodeAudio(samples);
        Assert.True(Same(a, b), "the reloaded head embeds differently");
    });
}
