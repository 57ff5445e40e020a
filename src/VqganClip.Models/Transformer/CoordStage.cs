using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// taming's <c>CoordStage</c> (taming/modules/misc/coord.py, the FacesHQ transformer's conditioning): a coordinate
/// map [B, 1, H, W] in [0, 1] is area-downsampled by <see cref="DownFactor"/>, scaled by <see cref="NEmbed"/> and
/// rounded to token ids [B, (H/f)(W/f)]. As upstream, a value of exactly 1 gives the id n_embed.
/// </summary>
public sealed class CoordStage : IConditioningStage
{
    /// <summary>Upstream's target.</summary>
    public const string UpstreamTarget = "taming.modules.misc.coord.CoordStage";

    /// <summary>Creates the stage.</summary>
    public CoordStage(int nEmbed, int downFactor)
    {
        if (nEmbed <= 0) throw new ArgumentOutOfRangeException(nameof(nEmbed), nEmbed, $"CoordStage n_embed must be positive (got {nEmbed}).");
        if (downFactor <= 0) throw new ArgumentOutOfRangeException(nameof(downFactor), downFactor, $"CoordStage down_factor must be positive (got {downFactor}).");
        NEmbed = nEmbed;
        DownFactor = downFactor;
    }

    /// <summary>Quantization levels (<c>n_embed</c>).</summary>
    public int NEmbed { get; }

    /// <summary>Downsampling factor (<c>down_factor</c>).</summary>
    public int DownFactor { get; }

    /// <inheritdoc/>
    public string Target => UpstreamTarget;

    /// <inheritdoc/>
    public string Description => $"coordinates (n_embed {NEmbed}, down_factor {DownFactor})";

    /// <inheritdoc/>
    public Tensor Encode(Tensor conditioning)
    {
        ArgumentNullException.ThrowIfNull(conditioning);
        if (conditioning.dim() != 4 || conditioning.shape[1] != 1)
            throw new ArgumentException($"CoordStage reads coordinate maps [batch, 1, height, width], got [{string.Join(", ", conditioning.shape)}].", nameof(conditioning));
        using var scope = torch.NewDisposeScope();
        var c = conditioning.to(ScalarType.Float32);
        if (c.min().item<float>() < 0 || c.max().item<float>() > 1)
            throw new ArgumentException("CoordStage's coordinate map must lie in [0, 1].", nameof(conditioning));
        var down = torch.nn.functional.interpolate(c, scale_factor: new[] { 1.0 / DownFactor, 1.0 / DownFactor }, mode: InterpolationMode.Area);
        var ids = (down.clamp(0.0, 1.0) * NEmbed).round().to(ScalarType.Int64);
        return ids.reshape(conditioning.shape[0], -1).MoveToOuterDisposeScope();
    }
}
