using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// taming's <c>SOSProvider</c> (taming/modules/util.py), the conditioning stage of unconditional models: every row
/// gets the single token <see cref="SosToken"/>; the input only gives the batch size and the device.
/// </summary>
public sealed class SosProvider : IConditioningStage
{
    /// <summary>Upstream's class name as it appears in logs (configs select it with <c>__is_unconditional__</c>).</summary>
    public const string UpstreamTarget = "taming.modules.util.SOSProvider";

    /// <summary>Creates the stage; <paramref name="sosToken"/> must be a GPT token (checked by <see cref="Net2NetTransformer"/>).</summary>
    public SosProvider(long sosToken)
    {
        if (sosToken < 0) throw new ArgumentOutOfRangeException(nameof(sosToken), sosToken, $"sos_token must be a token id, not negative (got {sosToken}).");
        SosToken = sosToken;
    }

    /// <summary>The start token (upstream's <c>sos_token</c>, 0 by default).</summary>
    public long SosToken { get; }

    /// <inheritdoc/>
    public string Target => UpstreamTarget;

    /// <inheritdoc/>
    public string Description => $"unconditional (SOS token {SosToken})";

    /// <summary>[B, 1] filled with the SOS token, B = the first axis of <paramref name="conditioning"/>.</summary>
    public Tensor Encode(Tensor conditioning)
    {
        ArgumentNullException.ThrowIfNull(conditioning);
        return ForBatch(conditioning.shape[0], conditioning.device);
    }

    /// <summary>[<paramref name="batch"/>, 1] filled with the SOS token.</summary>
    public Tensor ForBatch(long batch, Device? device = null) =>
        torch.full(new[] { batch, 1L }, SosToken, ScalarType.Int64, device ?? torch.CPU);
}
