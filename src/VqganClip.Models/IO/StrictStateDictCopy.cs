using static TorchSharp.torch;

namespace VqganClip.Models.IO;

/// <summary>
/// What one model family tells <see cref="StrictStateDictCopy"/>: the file and format for the error, how to name the
/// configuration that built the model, and which checkpoint tensors belong to this model at all.
/// </summary>
internal sealed record StrictCopyRules(string Path, string Format, string Configuration, Func<string, bool> BelongsToModel)
{
    /// <summary>A tensor the model builds that a checkpoint may leave out (the built value stays).</summary>
    public Func<string, bool> MayBeAbsent { get; init; } = _ => false;

    /// <summary>A tensor that belongs to the model's family but is ignored, as the reference's loader ignores it.</summary>
    public Func<string, bool> IgnoreIfUnexpected { get; init; } = _ => false;

    /// <summary>Said after the list of missing tensors, e.g. a guess at the cause.</summary>
    public string MissingHint { get; init; } = "";

    /// <summary>Said after the first tensors with no place in the model.</summary>
    public string UnexpectedHint { get; init; } = "The configuration and the checkpoint describe different architectures.";

    /// <summary>A family's own check, run once the names and shapes agree and before anything is copied.</summary>
    public Action<StateDict> CheckBeforeCopy { get; init; } = _ => { };
}

/// <summary>
/// Copies a checkpoint into a model built from its configuration after checking that the two agree exactly: a
/// shape or dtype disagreement names the tensor and both shapes, missing tensors are listed, and tensors of the
/// model's family with no place in it are refused. The references load with strict=False or not at all, and
/// would leave such tensors random or unused without a word; every loader of the toolkit shares this check.
/// </summary>
internal static class StrictStateDictCopy
{
    /// <param name="prefix">prepended to the model's own names to find them in the checkpoint (e.g. "first_stage_model.")</param>
    /// <param name="expected">the model's state dict: its names without the prefix, and the tensors to fill</param>
    public static void Copy(StateDict stateDict, string prefix, IEnumerable<KeyValuePair<string, Tensor>> expected, StrictCopyRules rules)
    {
        var targets = expected.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var missing = new List<string>();
        var mismatches = new List<string>();
        foreach (var (name, target) in targets)
        {
            if (!stateDict.TryGetValue(prefix + name, out var source))
            {
                if (!rules.MayBeAbsent(name)) missing.Add(prefix + name);
                continue;
            }
            if (!source.shape.SequenceEqual(target.shape))
                mismatches.Add($"tensor '{prefix + name}' has shape [{string.Join(", ", source.shape)}] in the checkpoint " +
                               $"but the configuration ({rules.Configuration}) expects [{string.Join(", ", target.shape)}]");
            else if (target.is_floating_point() && !source.is_floating_point())
                mismatches.Add($"tensor '{prefix + name}' is {source.dtype} in the checkpoint, expected floating point");
        }
        if (mismatches.Count > 0)
            throw new CheckpointFormatException(rules.Path, rules.Format,
                mismatches[0] + (mismatches.Count > 1 ? $" (and {mismatches.Count - 1} more tensors disagree)." : "."));
        if (missing.Count > 0)
            throw new CheckpointFormatException(rules.Path, rules.Format,
                $"{missing.Count} tensors the configuration ({rules.Configuration}) needs are missing from the checkpoint: " +
                string.Join(", ", missing.Take(8)) + (missing.Count > 8 ? ", ..." : "") + "." +
                (rules.MissingHint.Length > 0 ? " " + rules.MissingHint : ""));

        var unexpected = stateDict.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..])
            .Where(rules.BelongsToModel)
            .Where(k => !targets.ContainsKey(k) && !rules.IgnoreIfUnexpected(k))
            .Select(k => prefix + k)
            .ToList();
        if (unexpected.Count > 0)
            throw new CheckpointFormatException(rules.Path, rules.Format,
                $"{unexpected.Count} {rules.Format} tensors of the checkpoint have no place in the model the configuration ({rules.Configuration}) builds, " +
                $"first '{unexpected[0]}'" + (unexpected.Count > 1 ? $" (also {string.Join(", ", unexpected.Skip(1).Take(4))}{(unexpected.Count > 5 ? ", ..." : "")})" : "") +
                ". " + rules.UnexpectedHint);

        rules.CheckBeforeCopy(stateDict);

        using (no_grad())
            foreach (var (name, target) in targets)
                if (stateDict.TryGetValue(prefix + name, out var source))
                    target.copy_(source);
    }
}
