using VqganClip.Training.AudioClip;
using static TorchSharp.torch;
using static VqganClip.Training.Tests.Training.TrainingTestSupport;

namespace VqganClip.Training.Tests.AudioClip;

/// <summary>The per-step augmentation of cached decibel inputs: what each transform does to the values, and that it is a function of its draws.</summary>
public sealed class DecibelAugmentationTests
{
    /// <summary>A [3 bands, 4 bins, 10 frames] decibel input: bin b (bands end to end) and frame t hold −60 + b + t/10; frame 9 is digital silence.</summary>
    private static Tensor Sample()
    {
        var v = new float[3 * 4 * 10];
        for (int b = 0; b < 12; b++)
            for (int t = 0; t < 10; t++)
                v[b * 10 + t] = t == 9 ? -180f : -60f + b + t / 10f;
        return tensor(v).reshape(3, 4, 10);
    }

    [Fact]
    public void A_gain_adds_a_constant_in_decibels_and_leaves_digital_silence_at_its_floor() => SingleThreaded(() =>
    {
        using var x = Sample();
        using var y = DecibelAugmentation.Gain(x, 4.5);
        using var sound = x[TensorIndex.Ellipsis, TensorIndex.Slice(0, 9)];
        using var louder = y[TensorIndex.Ellipsis, TensorIndex.Slice(0, 9)];
        using var expected = sound + 4.5;
        Assert.True(allclose(louder, expected, rtol: 0, atol: 1e-5));
        using var silence = y[TensorIndex.Ellipsis, 9];
        Assert.All(silence.flatten().data<float>().ToArray(), v => Assert.Equal(-180f, v));
    });

    [Fact]
    public void Masks_set_the_intended_bins_and_frames_to_the_mean_of_the_sound_and_nothing_else() => SingleThreaded(() =>
    {
        using var x = Sample();
        using var y = DecibelAugmentation.Mask(x, [(5, 2)], [(3, 1)]);
        var before = x.reshape(12, 10).data<float>().ToArray();
        var after = y.reshape(12, 10).data<float>().ToArray();
        float mean = before.Where(v => v > -179f).Average();
        for (int b = 0; b < 12; b++)
            for (int t = 0; t < 10; t++)
            {
                bool masked = b is 5 or 6 || t == 3;   // bins 5 and 6 of the whole spectrum (band 1's second and third), frame 3
                Assert.Equal(masked ? mean : before[b * 10 + t], after[b * 10 + t], 4);
            }
        Assert.Equal(x.shape, y.shape);
    });

    [Fact]
    public void A_frequency_warp_of_one_is_the_identity_and_a_stretch_moves_the_spectrum_up() => SingleThreaded(() =>
    {
        using var x = Sample();
        using var same = DecibelAugmentation.WarpFrequency(x, 1.0);
        Assert.True(allclose(same, x));
        using var up = DecibelAugmentation.WarpFrequency(x, 2.0);
        var a = up.reshape(12, 10).data<float>().ToArray();
        var b = x.reshape(12, 10).data<float>().ToArray();
        // bin 6 now reads bin 3; bin 7 reads halfway between bins 3 and 4; bin 0 stays
        for (int t = 0; t < 10; t++)
        {
            Assert.Equal(b[3 * 10 + t], a[6 * 10 + t], 4);
            Assert.Equal((b[3 * 10 + t] + b[4 * 10 + t]) / 2, a[7 * 10 + t], 4);
            Assert.Equal(b[t], a[t], 4);
        }
    });

    [Fact]
    public void The_same_draws_give_the_same_augmentation_and_other_draws_another() => SingleThreaded(() =>
    {
        var o = new AudioClipTrainingOptions { AugGainDb = 6, AugFreqWarp = 0.1, AugTimeMasks = 2, AugTimeMaskFrames = 3, AugFreqMasks = 2, AugFreqMaskBins = 3 };
        Assert.True(DecibelAugmentation.Enabled(o));
        Assert.False(DecibelAugmentation.Enabled(new AudioClipTrainingOptions()));
        using var x = Sample();
        using var a = DecibelAugmentation.Apply(x, o, new Random(11));
        using var b = DecibelAugmentation.Apply(x, o, new Random(11));
        using var c = DecibelAugmentation.Apply(x, o, new Random(12));
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
        Assert.False(Same(a, x));
        using var original = Sample();
        Assert.True(Same(x, original), "the cached input was modified in place");
    });

    [Fact]
    public void The_options_round_trip_through_the_checkpoint_json_and_old_checkpoints_read_as_unaugmented()
    {
        var o = new AudioClipTrainingOptions { WideVoices = true, AugGainDb = 6, AugFreqWarp = 0.1, AugTimeMasks = 2, AugTimeMaskFrames = 20, AugFreqMasks = 1, AugFreqMaskBins = 15 };
        Assert.Equal(o.ToJson().ToJsonString(), AudioClipTrainingOptions.FromJson(o.ToJson()).ToJson().ToJsonString());
        var old = new AudioClipTrainingOptions().ToJson();
        foreach (var key in new[] { "wide_voices", "aug_gain_db", "aug_freq_warp", "aug_time_masks", "aug_time_mask_frames", "aug_freq_masks", "aug_freq_mask_bins" })
            old.Remove(key);
        var read = AudioClipTrainingOptions.FromJson(old);
        Assert.False(read.WideVoices);
        Assert.False(DecibelAugmentation.Enabled(read));
        Assert.Throws<ArgumentException>(() => (o with { AugGainDb = -1 }).Validate());
    }
}
