using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// taming's <c>Labelator</c> (taming/modules/util.py), the conditioning stage of class-conditional models such as
/// the ImageNet cIN transformer: the class id itself is the one conditioning token (class ids are ordinary tokens
/// of the GPT's vocabulary). Unlike upstream, ids outside [0, n_classes) are refused.
/// </summary>
public sealed class Labelator : IConditioningStage
{
    /// <summary>Upstream's target.</summary>
    public const string UpstreamTarget = "taming.modules.util.Labelator";

    /// <summary>Creates the stage for <paramref name="nClasses"/> classes.</summary>
    public Labelator(int nClasses)
    {
        if (nClasses <= 0) throw new ArgumentOutOfRangeException(nameof(nClasses), nClasses, $"n_classes must be positive (got {nClasses}).");
        NClasses = nClasses;
    }

    /// <summary>Number of classes (<c>n_classes</c>).</summary>
    public int NClasses { get; }

    /// <inheritdoc/>
    public string Target => UpstreamTarget;

    /// <inheritdoc/>
    public string Description => $"class label ({NClasses} classes)";

    /// <summary>Class ids [B] or [B, 1] (integers) to tokens [B, 1] (int64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A class id outside [0, n_classes); the message names it.</exception>
    public Tensor Encode(Tensor conditioning)
    {
        ArgumentNullException.ThrowIfNull(conditioning);
        if (conditioning.dim() > 2 || conditioning.dim() == 2 && conditioning.shape[1] != 1 || conditioning.is_floating_point())
            throw new ArgumentException($"Class labels must be integer ids [batch] or [batch, 1], got {conditioning.dtype} [{string.Join(", ", conditioning.shape)}].", nameof(conditioning));
        using var scope = torch.NewDisposeScope();
        var ids = conditioning.to(ScalarType.Int64).reshape(-1, 1);
        var bad = ids.lt(0).logical_or(ids.ge(NClasses));
        if (bad.any().item<bool>())
        {
            long first = ids.masked_select(bad)[0].item<long>();
            throw new ArgumentOutOfRangeException(nameof(conditioning), first, $"Class id {first} is outside [0, {NClasses}): this model knows {NClasses} classes.");
        }
        return ids.MoveToOuterDisposeScope();
    }

    /// <summary>Tokens [B, 1] for class ids given as numbers.</summary>
    public Tensor Encode(IEnumerable<long> classIds)
    {
        ArgumentNullException.ThrowIfNull(classIds);
        using var ids = torch.tensor(classIds.ToArray(), ScalarType.Int64);
        return Encode(ids);
    }
}
