using TorchSharp;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Prompts;

/// <summary>
/// A sound as a prompt (AudioCLIP): the WAV's audio embedding becomes one more target of the same spherical-distance
/// loss as text prompts, with the same weight, stop and negative weights. The image tower scoring the cutouts must
/// share the audio head's space: the RN50 towers of the same AudioCLIP file, or the CLIP the head was trained against
/// (the Partial checkpoint kept OpenAI's RN50). The embedding is computed once, without gradients.
/// </summary>
public static class AudioPrompt
{
    /// <summary>The unnormalised audio embedding [1, embed] of a WAV file (mono, resampled to 44.1 kHz, int16 range).</summary>
    public static Tensor Embed(AudioClipModel model, string wavPath)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var samples = AudioClipInput.Load(wavPath, model.Config);
        return model.EncodeAudio(samples).MoveToOuterDisposeScope();
    }

    /// <summary>The encoded prompt for <paramref name="spec"/> (an audio prompt), checked against <paramref name="clip"/>'s space.</summary>
    public static Prompt Create(AudioClipModel model, ClipModel clip, PromptSpec spec)
    {
        if (spec.Source != PromptSource.Audio)
            throw new ArgumentException($"'{spec.ToLabel()}' is a {spec.Source} prompt, not an audio prompt.", nameof(spec));
        AudioZeroShot.CheckSpace(model, clip);
        if (!File.Exists(spec.Text))
            throw new FileNotFoundException($"Audio prompt file '{spec.Text}' does not exist.", spec.Text);
        using var embedding = Embed(model, spec.Text);
        return new Prompt(spec, embedding);
    }
}
