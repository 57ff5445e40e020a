using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// upstream <c>AudioCLIP</c> (model/audioclip.py): the <c>audio</c> head and the two temperatures
/// <c>logit_scale_ai</c> (audio–image) and <c>logit_scale_at</c> (audio–text), whose state dict is exactly the
/// file's <c>audio.*</c> and <c>logit_scale_a*</c> entries; the CLIP RN towers of the same file are a
/// <see cref="ClipModel"/> in <see cref="Clip"/> (null for a file with the audio head only). Frozen, eval mode.
/// </summary>
public sealed class AudioClipModel : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // reference parameter names
    public readonly EsResNeXtFbsp audio;
    public readonly Parameter logit_scale_ai;
    public readonly Parameter logit_scale_at;
#pragma warning restore IDE1006

    static AudioClipModel() => TorchRuntime.EnsureInitialized();

    public AudioClipModel(AudioHeadConfig config) : base("AudioCLIP")
    {
        audio = new EsResNeXtFbsp(config);
        logit_scale_ai = new Parameter(torch.tensor(MathF.Log(100f)), requires_grad: false);
        logit_scale_at = new Parameter(torch.tensor(MathF.Log(100f)), requires_grad: false);
        RegisterComponents();
        eval();
    }

    public AudioHeadConfig Config => audio.Config;

    /// <summary>The CLIP towers loaded from the same file, or null. Owned (disposed) by this model.</summary>
    public ClipModel? Clip { get; internal set; }

    public int EmbedDim => Config.EmbedDim;

    /// <summary>Hands the CLIP towers to the caller, who then owns them (this model no longer disposes them).</summary>
    public ClipModel? TakeClip()
    {
        var clip = Clip;
        Clip = null;
        return clip;
    }

    /// <summary>
    /// The CLIP an audio head without towers was trained against, as its file names it (metadata <c>clip</c>, e.g.
    /// <c>clipart-clip.safetensors</c>), resolved beside the file; null when the file names none or it is not there.
    /// </summary>
    public string? PairedClipPath { get; internal set; }

    /// <summary>The file this was loaded from, if any.</summary>
    public string? SourcePath { get; internal set; }

    /// <summary>upstream <c>encode_audio</c>: samples [B, L] or [B, 1, L] at 44.1 kHz in the int16 range → [B, embed].</summary>
    public Tensor EncodeAudio(Tensor samples) => audio.forward(samples);

    public override Tensor forward(Tensor samples) => EncodeAudio(samples);

    /// <summary>clamp(exp(logit_scale_ai), 1, 100), as upstream's forward.</summary>
    public float AudioImageScale => Clamped(logit_scale_ai);

    /// <summary>clamp(exp(logit_scale_at), 1, 100).</summary>
    public float AudioTextScale => Clamped(logit_scale_at);

    private static float Clamped(Tensor logScale)
    {
        using var _ = no_grad();
        using var s = logScale.exp().clamp(1.0, 100.0);
        return s.item<float>();
    }

    /// <summary>upstream's logits_audio_image (or _text): scale · normed(a) @ normed(b).T.</summary>
    public static Tensor Logits(Tensor audioFeatures, Tensor otherFeatures, float scale)
    {
        using var scope = NewDisposeScope();
        var a = audioFeatures / audioFeatures.norm(-1, keepdim: true);
        var b = otherFeatures / otherFeatures.norm(-1, keepdim: true);
        return (scale * matmul(a, b.t())).MoveToOuterDisposeScope();
    }

    /// <summary>Parameter count of the audio head.</summary>
    public long AudioParameterCount => audio.parameters().Sum(p => p.numel());

    protected override void Dispose(bool disposing)
    {
        if (disposing) Clip?.Dispose();
        base.Dispose(disposing);
    }
}
