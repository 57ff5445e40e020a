using TorchSharp;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// A VQGAN as conditioning stage: its codebook indices of the conditioning input (an image, a depth map, a one-hot
/// segmentation) are the conditioning tokens [B, h*w]. Either the first stage itself (upstream's
/// <c>__is_first_stage__</c>: cond_stage_model is first_stage_model) or a separate VQModel (S-FLCKR's segmentation
/// VQGAN, <c>cond_stage_model.*</c> weights). The stage does not own the model; the <see cref="Net2NetTransformer"/> does.
/// </summary>
public sealed class VqganConditioningStage : IConditioningStage
{
    /// <summary>Upstream's marker for "the first stage is also the conditioning stage".</summary>
    public const string FirstStageMarker = "__is_first_stage__";

    /// <summary>Wraps <paramref name="model"/>; <paramref name="isFirstStage"/> says it is the transformer's first stage.</summary>
    public VqganConditioningStage(VqganModel model, bool isFirstStage, string? target = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        IsFirstStage = isFirstStage;
        Target = isFirstStage ? FirstStageMarker : target ?? model.Config.Target ?? VqganConfig.VQModelTarget;
    }

    /// <summary>The VQGAN that encodes the conditioning.</summary>
    public VqganModel Model { get; }

    /// <summary>True for <c>__is_first_stage__</c>.</summary>
    public bool IsFirstStage { get; }

    /// <inheritdoc/>
    public string Target { get; }

    /// <inheritdoc/>
    public string Description => IsFirstStage
        ? $"the first stage's codes ({FirstStageMarker})"
        : $"a VQGAN's codes ({Target}, n_embed {Model.Config.NEmbed}, in_channels {Model.Config.DdConfig.InChannels})";

    /// <summary>
    /// upstream's <c>encode_to_c</c>: the VQGAN's quantization of <paramref name="conditioning"/>
    /// [B, in_channels, H, W], indices viewed [B, h*w] (raster order).
    /// </summary>
    public Tensor Encode(Tensor conditioning)
    {
        ArgumentNullException.ThrowIfNull(conditioning);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (_, indices) = Model.EncodeQuantized(conditioning.to(Model.Device));
        return indices.view(conditioning.shape[0], -1).MoveToOuterDisposeScope();
    }
}
