using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// taming's permuter (taming/modules/transformer/permuter.py): reorders the flattened image tokens before the GPT
/// reads them (<c>reverse</c> undoes it before decoding). Only <c>Identity</c>, upstream's default and the one its
/// released transformers use, is supported.
/// </summary>
public interface ITokenPermuter
{
    /// <summary>Upstream's target of the permuter.</summary>
    string Target { get; }

    /// <summary>Tokens [B, L] in GPT order (or back in raster order with <paramref name="reverse"/>).</summary>
    Tensor Forward(Tensor tokens, bool reverse = false);
}

/// <summary>upstream's <c>permuter.Identity</c>: the raster order unchanged.</summary>
public sealed class IdentityPermuter : ITokenPermuter
{
    /// <summary>Upstream's target.</summary>
    public const string UpstreamTarget = "taming.modules.transformer.permuter.Identity";

    /// <inheritdoc/>
    public string Target => UpstreamTarget;

    /// <summary>The same tokens (a new handle the caller disposes).</summary>
    public Tensor Forward(Tensor tokens, bool reverse = false)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return tokens.alias();
    }
}

/// <summary>Builds the permuter a config names.</summary>
public static class TokenPermuters
{
    /// <summary>The permuter for <paramref name="target"/> (null: upstream's default, Identity).</summary>
    /// <exception cref="NotSupportedException">Any other permuter; the message names the target.</exception>
    public static ITokenPermuter FromTarget(string? target)
    {
        if (target is null || target == IdentityPermuter.UpstreamTarget) return new IdentityPermuter();
        throw new NotSupportedException(
            $"permuter_config target '{target}' is not supported: only {IdentityPermuter.UpstreamTarget} (upstream's default) is. " +
            "taming's other permuters (Subsample, ZCurve, SpiralOut, ...) are not used by its released transformers.");
    }
}
