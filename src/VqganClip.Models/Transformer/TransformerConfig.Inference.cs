using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>Reading a Net2NetTransformer's configuration from its weights (when no YAML came with them).</summary>
public sealed partial record TransformerConfig
{
    /// <summary>
    /// Reads the configuration from a Net2NetTransformer state dict: the GPT from <c>transformer.*</c> (see
    /// <see cref="GptConfig.TryInferFromShapes"/>; n_unmasked from the mask buffer; n_head from
    /// <paramref name="hints"/>), the first stage from <c>first_stage_model.*</c>
    /// (<see cref="VqganConfig.TryInferFromStateDict"/>), and the conditioning stage: <c>cond_stage_model.*</c>
    /// tensors equal to the first stage's mean <c>__is_first_stage__</c> (upstream saves the shared module under both
    /// names), other ones a separate VQGAN; with none, the stage has no weights and must come from the hints
    /// (unconditional or class-conditional). On failure <paramref name="problem"/> says which value is needed.
    /// </summary>
    public static bool TryInferFromStateDict(StateDict stateDict, TransformerLoadHints? hints, out TransformerConfig? config, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        config = null;
        var shapes = stateDict.Entries.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        string source = stateDict.Describe();

        if (!GptConfig.TryInferFromShapes(shapes, Net2NetTransformer.TransformerPrefix, hints?.NHead, source, out var gpt, out problem))
            return false;
        if (!GptWeights.TryReadUnmasked(stateDict, Net2NetTransformer.TransformerPrefix, gpt!.BlockSize, out int nUnmasked, out problem))
            return false;
        gpt = gpt! with { NUnmasked = nUnmasked };

        if (VqganCheckpointLayout.FindPrefix(stateDict) != Net2NetTransformer.FirstStagePrefix)
        {
            problem = $"no first-stage VQGAN under '{Net2NetTransformer.FirstStagePrefix}' (looked for {Net2NetTransformer.FirstStagePrefix}encoder.conv_in.weight).";
            return false;
        }
        if (!VqganConfig.TryInferFromStateDict(stateDict, out var firstStage, out problem))
        {
            problem = $"cannot infer the first stage: {problem}";
            return false;
        }

        ConditioningConfig? conditioning;
        if (hints?.Conditioning is null && stateDict.ContainsKey(Net2NetTransformer.CondStagePrefix + CaptionConditioning.TableName))
        {
            // a caption model: its prefix is the unmasked part of the mask (the trainer sets n_unmasked to it)
            if (gpt.NUnmasked <= 0)
            {
                problem = "the weights hold a caption table (cond_stage_model.bpe_ids) but the mask has no unmasked prefix to tell the caption length; pass the model's YAML.";
                return false;
            }
            conditioning = ConditioningConfig.Caption(firstStage!.NEmbed, gpt.NUnmasked);
        }
        else if (!TryInferConditioning(stateDict, shapes, hints?.Conditioning, source, out conditioning, out problem))
            return false;

        var candidate = new TransformerConfig
        {
            Gpt = gpt,
            FirstStage = firstStage!,
            Conditioning = conditioning!,
            SosToken = hints?.SosToken ?? 0,
            CondStageKey = conditioning!.Kind switch
            {
                ConditioningKind.ClassLabel => "class_label",
                ConditioningKind.Unconditional or ConditioningKind.FirstStage => "image",
                ConditioningKind.Coord => "coord",
                ConditioningKind.Caption => "caption",
                _ => "depth",
            },
            Source = $"inferred from {source}",
        };
        try
        {
            candidate.Validate();
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            problem = e.Message;
            return false;
        }
        config = candidate;
        problem = null;
        return true;
    }

    /// <summary>The conditioning stage: the hint, or what the cond_stage_model.* tensors say (see <see cref="TryInferFromStateDict"/>).</summary>
    private static bool TryInferConditioning(StateDict stateDict, IReadOnlyDictionary<string, long[]> shapes, ConditioningConfig? hint, string source,
        out ConditioningConfig? conditioning, out string? problem)
    {
        conditioning = hint;
        problem = null;
        bool needsVqgan = hint is { Kind: ConditioningKind.Vqgan, Vqgan: null };
        if (hint is not null && !needsVqgan) return true;
        bool hasCondTensors = stateDict.ContainsKey(Net2NetTransformer.CondStagePrefix + "encoder.conv_in.weight");
        if (!hasCondTensors)
        {
            problem = needsVqgan
                ? $"a conditioning VQGAN was named but the weights hold no '{Net2NetTransformer.CondStagePrefix}encoder.conv_in.weight'."
                : "the conditioning stage cannot be read from the weights: unconditional (SOSProvider) and class-conditional (Labelator) models carry no " +
                  "conditioning tensors. Say which it is (unconditional with its sos_token, or class-conditional with n_classes) or pass the model's *-project.yaml.";
            return false;
        }
        if (!needsVqgan && CondStageIsFirstStage(stateDict))
        {
            conditioning = ConditioningConfig.FirstStage;
            return true;
        }
        var condShapes = shapes
            .Where(kv => kv.Key.StartsWith(Net2NetTransformer.CondStagePrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[Net2NetTransformer.CondStagePrefix.Length..], kv => kv.Value, StringComparer.Ordinal);
        if (!VqganConfig.TryInferFromShapes(condShapes, source, out var condVq, out problem))
        {
            problem = $"cannot infer the conditioning VQGAN (cond_stage_model.*): {problem}";
            return false;
        }
        conditioning = ConditioningConfig.SeparateVqgan(condVq! with { StateDictPrefix = Net2NetTransformer.CondStagePrefix }, hint?.Target);
        return true;
    }

    /// <summary>True when every cond_stage_model.* tensor equals the first_stage_model.* tensor of the same name.</summary>
    private static bool CondStageIsFirstStage(StateDict stateDict)
    {
        var condKeys = stateDict.Keys.Where(k => k.StartsWith(Net2NetTransformer.CondStagePrefix, StringComparison.Ordinal)).ToList();
        foreach (var key in condKeys)
        {
            var firstKey = Net2NetTransformer.FirstStagePrefix + key[Net2NetTransformer.CondStagePrefix.Length..];
            if (!stateDict.TryGetValue(firstKey, out var first) || !StateDict.SameTensor(first, stateDict[key])) return false;
        }
        return condKeys.Count > 0;
    }
}
