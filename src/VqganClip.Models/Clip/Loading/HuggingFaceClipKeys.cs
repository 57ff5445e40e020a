using System.Text.RegularExpressions;
using TorchSharp;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// Maps Hugging Face transformers' CLIPModel names onto openai/CLIP's:
/// <c>vision_model.embeddings.{patch_embedding -> visual.conv1, class_embedding, position_embedding.weight -> visual.positional_embedding}</c>,
/// <c>vision_model.pre_layrnorm</c> (sic) -> <c>visual.ln_pre</c>, <c>post_layernorm</c> -> <c>ln_post</c>,
/// <c>encoder.layers.N</c> -> <c>resblocks.N</c> with <c>self_attn.{q,k,v}_proj</c> stacked into
/// <c>attn.in_proj_weight/bias</c> (q, k, v order, as nn.MultiheadAttention), <c>layer_norm1/2 -> ln_1/2</c>,
/// <c>mlp.fc1/fc2 -> mlp.c_fc/c_proj</c>; <c>text_model.embeddings.{token_embedding, position_embedding.weight -> positional_embedding}</c>,
/// <c>final_layer_norm -> ln_final</c>; <c>visual_projection.weight</c> and <c>text_projection.weight</c> are Linear
/// weights [embed, width] while OpenAI keeps [width, embed] matrices used as <c>x @ proj</c>: they are transposed.
/// Unknown names pass through unchanged so the loader reports them as unexpected.
/// </summary>
public static class HuggingFaceClipKeys
{
    private enum Op { Copy, StackQkv, Transpose }

    private sealed record Step(string Target, string[] Sources, Op Op);

    private static readonly Regex Layer = new(@"^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.+)$", RegexOptions.CultureInvariant);
    private static readonly Regex Qkv = new(@"^self_attn\.([qkv])_proj\.(weight|bias)$", RegexOptions.CultureInvariant);

    private static readonly Dictionary<string, string> Direct = new(StringComparer.Ordinal)
    {
        ["vision_model.embeddings.patch_embedding.weight"] = "visual.conv1.weight",
        ["vision_model.embeddings.class_embedding"] = "visual.class_embedding",
        ["vision_model.embeddings.position_embedding.weight"] = "visual.positional_embedding",
        ["vision_model.pre_layrnorm.weight"] = "visual.ln_pre.weight",
        ["vision_model.pre_layrnorm.bias"] = "visual.ln_pre.bias",
        ["vision_model.post_layernorm.weight"] = "visual.ln_post.weight",
        ["vision_model.post_layernorm.bias"] = "visual.ln_post.bias",
        ["text_model.embeddings.token_embedding.weight"] = "token_embedding.weight",
        ["text_model.embeddings.position_embedding.weight"] = "positional_embedding",
        ["text_model.final_layer_norm.weight"] = "ln_final.weight",
        ["text_model.final_layer_norm.bias"] = "ln_final.bias",
        ["logit_scale"] = "logit_scale",
    };

    private static readonly Dictionary<string, string> Transposed = new(StringComparer.Ordinal)
    {
        ["visual_projection.weight"] = "visual.proj",
        ["text_projection.weight"] = "text_projection",
    };

    private static readonly (string Hf, string OpenAI)[] LayerParts =
    [
        ("self_attn.out_proj.", "attn.out_proj."),
        ("layer_norm1.", "ln_1."),
        ("layer_norm2.", "ln_2."),
        ("mlp.fc1.", "mlp.c_fc."),
        ("mlp.fc2.", "mlp.c_proj."),
    ];

    private static List<Step> Plan(IEnumerable<string> names)
    {
        var steps = new List<Step>();
        var stacks = new SortedDictionary<string, Dictionary<char, string>>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (Direct.TryGetValue(name, out var target)) { steps.Add(new(target, [name], Op.Copy)); continue; }
            if (Transposed.TryGetValue(name, out target)) { steps.Add(new(target, [name], Op.Transpose)); continue; }

            var m = Layer.Match(name);
            if (m.Success)
            {
                var prefix = (m.Groups[1].Value == "vision_model" ? "visual.transformer" : "transformer") + $".resblocks.{m.Groups[2].Value}.";
                var rest = m.Groups[3].Value;
                var qkv = Qkv.Match(rest);
                if (qkv.Success)
                {
                    var key = prefix + "attn.in_proj_" + qkv.Groups[2].Value;
                    if (!stacks.TryGetValue(key, out var parts)) stacks[key] = parts = new();
                    parts[qkv.Groups[1].Value[0]] = name;
                    continue;
                }
                var part = LayerParts.FirstOrDefault(p => rest.StartsWith(p.Hf, StringComparison.Ordinal));
                if (part.Hf is not null)
                {
                    steps.Add(new(prefix + part.OpenAI + rest[part.Hf.Length..], [name], Op.Copy));
                    continue;
                }
            }
            steps.Add(new(name, [name], Op.Copy)); // unknown: reported later as unexpected
        }

        foreach (var (target, parts) in stacks)
        {
            var missing = "qkv".Where(c => !parts.ContainsKey(c)).ToList();
            if (missing.Count > 0)
            {
                var some = parts.Values.First();
                throw new InvalidDataException(
                    $"cannot build '{target}': missing {string.Join(", ", missing.Select(c => some.Replace($"self_attn.{parts.Keys.First()}_proj", $"self_attn.{c}_proj")))}");
            }
            steps.Add(new(target, [parts['q'], parts['k'], parts['v']], Op.StackQkv));
        }
        return steps;
    }

    /// <summary>Shapes under OpenAI names, for config inference without touching tensor data.</summary>
    public static Dictionary<string, long[]> ToOpenAIShapes(IReadOnlyDictionary<string, long[]> hfShapes)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var step in Plan(hfShapes.Keys))
        {
            var first = hfShapes[step.Sources[0]];
            result[step.Target] = step.Op switch
            {
                Op.Transpose when first.Length == 2 => [first[1], first[0]],
                Op.StackQkv => [.. new[] { step.Sources.Sum(s => hfShapes[s][0]) }, .. first[1..]],
                _ => first,
            };
        }
        return result;
    }

    /// <summary>A new state dict under OpenAI names; tensors are taken out of <paramref name="hf"/> or derived from them.</summary>
    public static StateDict ToOpenAI(StateDict hf)
    {
        var steps = Plan(hf.Keys);
        var result = new StateDict(hf.Format, hf.SourcePath);
        foreach (var (k, v) in hf.Metadata) result.Metadata[k] = v;
        try
        {
            foreach (var step in steps)
            {
                switch (step.Op)
                {
                    case Op.Copy:
                        result.Add(step.Target, hf.Detach(step.Sources[0]));
                        break;
                    case Op.Transpose:
                        var t = hf[step.Sources[0]];
                        if (t.dim() != 2)
                            throw new InvalidDataException($"'{step.Sources[0]}' has shape {ClipConfig.Fmt(t.shape)}; expected a 2-d projection weight");
                        result.Add(step.Target, t.t().contiguous());
                        break;
                    case Op.StackQkv:
                        var parts = step.Sources.Select(s => hf[s]).ToArray();
                        var rank = parts[0].dim();
                        for (int i = 1; i < 3; i++)
                            if (parts[i].dim() != rank || !parts[i].shape.Skip(1).SequenceEqual(parts[0].shape.Skip(1)))
                                throw new InvalidDataException(
                                    $"cannot stack q/k/v into '{step.Target}': '{step.Sources[0]}' is {ClipConfig.Fmt(parts[0].shape)} but '{step.Sources[i]}' is {ClipConfig.Fmt(parts[i].shape)}");
                        result.Add(step.Target, torch.cat(parts, 0));
                        break;
                }
            }
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }
}
