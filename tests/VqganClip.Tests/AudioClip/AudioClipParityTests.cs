using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Tests.Transformer;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static VqganClip.Tests.AudioClip.AudioClipTestSupport;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Tests.AudioClip;

/// <summary>
/// audioclip-tiny (upstream AndreyGuzhov/AudioCLIP 45327aa, widths / 8): every tensor its manifest names, within its
/// tolerance. The max error of each is written to the test output.
/// </summary>
public sealed class AudioClipParityTests(ITestOutputHelper output)
{
    static AudioClipParityTests() => TransformerTestSupport.EnsureTorch();

    private void Report(string what, double maxError) => output.WriteLine($"{what}: max |ours - ref| = {maxError:G3}");

    /// <summary>
    /// Bins quieter than this (in the reference) hold float32 rounding noise: the spectrogram agrees with upstream's
    /// to ~3e-7 absolute (both are that far from a float64 evaluation; the libm and BLAS rounding of PyTorch 1.13 and of
    /// TorchSharp's libtorch differ), and 10·log10 turns that into tenths of a dB at −100 dB and tens of dB near
    /// −160 dB. At −60 dB the noise is under 0.003 dB, inside the manifest's tolerance (0.006 dB there).
    /// </summary>
    public const double QuietDecibels = -60.0;

    [Fact]
    public void Audio_framing_matches_upstream_frame_signal()
    {
        using var model = Load(withClip: false);
        using var io = Io();
        using var scope = NewDisposeScope();
        var scaled = SignalFraming.ScaleInt16Range(io["inputs.audio"].view(-1, io["inputs.audio"].shape[^1]));
        var frames = SignalFraming.Frame(scaled, model.Config.WinLength, model.Config.HopLength, model.audio.Window);
        var expected = io["outputs.frames_check"];
        Assert.Equal(67, frames.shape[1]); // 1 + ceil((4410 - 200) / 64)
        // Within tolerance; the fixture's frames are exactly those of samples / 32767.5, without scale()'s 1/65535
        // offset, which the spectrogram below does have (it matches 200x better with it).
        Report("frames_check", AssertClose(expected, frames.narrow(1, 0, expected.shape[1]), "frames_check"));
    }

    [Fact]
    public void Audio_fbsp_spectrogram_matches_upstream()
    {
        using var model = Load(withClip: false);
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Report("fbsp_spectrogram", AssertClose(io["outputs.fbsp_spectrogram"], model.audio.Spectrogram(io["inputs.audio"]), "fbsp_spectrogram"));
    }

    [Fact]
    public void Audio_decibel_input_matches_upstream_above_the_float32_noise_floor()
    {
        using var model = Load(withClip: false);
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var expected = io["outputs.x_db"];
        // The band split, power and log of upstream's own spectrogram: every element.
        var fromReference = SpectrogramBands.ToDecibels(io["outputs.fbsp_spectrogram"], 2, model.Config.Bands);
        Report("x_db from the reference spectrogram", AssertClose(expected, fromReference, "x_db (from upstream's spectrogram)"));
        // End to end from the samples: every element louder than QuietDecibels.
        var ours = model.audio.DecibelInput(io["inputs.audio"]);
        var loud = expected.ge(QuietDecibels);
        long count = loud.sum().item<long>();
        Assert.True(count > expected.numel() / 4, $"only {count} of {expected.numel()} reference values above {QuietDecibels} dB");
        Report($"x_db end to end, {count} of {expected.numel()} values above {QuietDecibels} dB",
            AssertClose(expected.masked_select(loud), ours.masked_select(loud), "x_db (end to end, loud bins)"));
        using var all = (ours - expected).abs().max();
        output.WriteLine($"x_db end to end, all values: max |ours - ref| = {all.item<float>():G3} dB (quiet bins: rounding noise)");
    }

    [Theory]
    [InlineData("AudioCLIP-tiny.pt")]
    [InlineData("model.safetensors")]
    public void Audio_embedding_and_normalised_features_match_upstream(string file)
    {
        using var model = Load(file, withClip: false);
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The head (ResNeXt, gates, reduction, fc) on upstream's decibel input: exact parity.
        var embedding = model.audio.Embed(io["outputs.x_db"]);
        Report($"audio_embedding ({file})", AssertClose(io["outputs.audio_embedding"], embedding, "audio_embedding"));
        var normed = embedding / embedding.norm(-1, keepdim: true);
        Report($"audio_features_normed ({file})", AssertClose(io["outputs.audio_features_normed"], normed, "audio_features_normed"));
        // From the samples, the quiet bins' rounding noise (above) reaches the random-weight tiny head: close, not within 1e-4.
        var endToEnd = model.EncodeAudio(io["inputs.audio"]);
        var cosine = F.cosine_similarity(endToEnd, io["outputs.audio_embedding"], dim: -1);
        output.WriteLine($"audio_embedding end to end ({file}): max |ours - ref| = {(endToEnd - io["outputs.audio_embedding"]).abs().max().item<float>():G3}, " +
                         $"cosine to ref {cosine.min().item<float>():F5}");
        Assert.True(cosine.min().item<float>() > 0.99f, "end-to-end audio embedding points away from upstream's");
    }

    [Fact]
    public void Audio_image_logits_use_the_same_files_rn_tower_and_logit_scale_ai()
    {
        using var model = Load();
        Assert.NotNull(model.Clip);
        Assert.IsType<ModifiedResNet>(model.Clip!.visual);
        // AudioCLIP's CLIP code is OpenAI's: QuickGELU in the text tower, not the open_clip default a bare state dict gets
        Assert.Equal(ClipActivation.QuickGelu, model.Clip.Config.TextActivation);
        Assert.StartsWith("AudioCLIP checkpoint", model.Clip.Config.ActivationSource);
        using var io = Io();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = model.Clip.EncodeImage(io["inputs.images"]);
        Report("image_features_normed", AssertClose(io["outputs.image_features_normed"], image / image.norm(-1, keepdim: true), "image_features_normed"));
        var logits = AudioClipModel.Logits(model.audio.Embed(io["outputs.x_db"]), image, model.AudioImageScale);
        Report("logits_audio_image", AssertClose(io["outputs.logits_audio_image"], logits, "logits_audio_image"));
    }

    [Fact]
    public void Audio_prompt_guidance_gradient_wrt_image_matches_upstream()
    {
        using var model = Load();
        using var io = Io();
        using var scope = NewDisposeScope();
        Tensor target;
        using (no_grad())
        {
            var a = model.audio.Embed(io["outputs.x_db"]);
            target = a / a.norm(-1, keepdim: true);
        }
        var images = io["inputs.images"].clone().requires_grad_(true);
        var loss = 1e5 * F.cosine_similarity(model.Clip!.EncodeImage(images), target, dim: -1).sum();
        loss.backward();
        Report("image_grad", AssertClose(io["outputs.image_grad"], images.grad!, "image_grad"));
        Assert.All(model.parameters().Concat(model.Clip.parameters()), p => Assert.False(p.requires_grad));
    }
}
