using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// upstream <c>_ESResNet._forward_pre_processing</c> after the spectrogram: <c>split_spectrogram</c> cuts the bins
/// into <paramref name="bands"/> equal "colour" bands (bins beyond bands × ⌊bins/bands⌋ are dropped: 1025 → 3 × 341),
/// <c>spectrogram_to_power</c> takes re² + im², values ≤ 0 become 1e−18, and 10·log10 gives decibels.
/// Only spec_height = spec_width = −1 (no resize), as AudioCLIP is configured.
/// </summary>
public static class SpectrogramBands
{
    public const double Log10Eps = 1e-18;

    /// <summary>spectrum [B·C, bins, T, 2] → decibels [B, C, bands, bins/bands, T] (C = 1 for AudioCLIP's mono input).</summary>
    public static Tensor ToDecibels(Tensor spec, long batchSize, int bands)
    {
        using var scope = NewDisposeScope();
        long perBand = spec.shape[^3] / bands;
        var kept = spec[TensorIndex.Colon, TensorIndex.Slice(0, bands * perBand)];
        var split = kept.reshape(batchSize, -1, perBand, spec.shape[^2], spec.shape[^1]);
        var power = split[TensorIndex.Ellipsis, 0].pow(2) + split[TensorIndex.Ellipsis, 1].pow(2);
        power = where(power > 0.0, power, full_like(power, Log10Eps));
        power = power.reshape(batchSize, -1, bands, power.shape[^2], power.shape[^1]);
        return power.log10().mul(10.0).MoveToOuterDisposeScope();
    }
}
