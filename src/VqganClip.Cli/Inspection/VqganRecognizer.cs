using System.Globalization;
using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;

namespace VqganClip.Cli.Inspection;

/// <summary>
/// Recognises taming-transformers VQGAN checkpoints (VQModel, GumbelVQ, or a Net2NetTransformer's first stage)
/// for <c>vqgan-clip inspect</c>, showing the taming YAML found beside it when there is one, otherwise the
/// configuration inferred from tensor shapes (its resolution then assumed and said so).
/// </summary>
public sealed class VqganRecognizer : IModelRecognizer
{
    public ModelRecognition? Recognize(CheckpointInfo checkpoint)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var t in checkpoint.Tensors) shapes.TryAdd(t.Name, t.Shape);
        if (VqganCheckpointLayout.FindPrefix(shapes.ContainsKey) is null) return null;

        string? yamlProblem = null;
        VqganConfig? config = null;
        var yaml = File.Exists(checkpoint.Path) ? VqganConfigDiscovery.FindBeside(checkpoint.Path) : null;
        if (yaml is not null)
        {
            try { config = VqganConfig.FromYaml(yaml); }
            catch (Exception e) when (e is InvalidDataException or IOException) { yamlProblem = $"{yaml}: {e.Message}"; }
        }
        if (config is null && !VqganConfig.TryInferFromShapes(shapes, $"'{checkpoint.Path}'", out config, out var problem))
            return new ModelRecognition("VQGAN (configuration incomplete)", [new("problem", problem ?? "unknown")]);

        var c = config!;
        var d = c.DdConfig;
        static string S(int v) => v.ToString(CultureInfo.InvariantCulture);
        static string L(IEnumerable<int> values) => "[" + string.Join(", ", values) + "]";
        var settings = new List<KeyValuePair<string, string>>
        {
            new("config", c.Source + (c.ResolutionAssumed ? " (resolution not in the weights: assumed)" : "")),
            new("target", c.Target ?? c.Kind.ToString()),
            new("embed_dim", S(c.EmbedDim)),
            new("n_embed", S(c.NEmbed)),
            new("downsampling factor", S(c.DownsamplingFactor)),
            new("ch", S(d.Ch)),
            new("ch_mult", L(d.ChMult)),
            new("num_res_blocks", S(d.NumResBlocks)),
            new("attn_resolutions", L(d.AttnResolutions)),
            new("resolution", S(d.Resolution)),
            new("z_channels", S(d.ZChannels)),
            new("double_z", d.DoubleZ ? "true" : "false"),
            new("in_channels / out_ch", $"{S(d.InChannels)} / {S(d.OutCh)}"),
        };
        if (c.Remap is not null) settings.Add(new("remap", c.Remap));
        var prefix = VqganCheckpointLayout.FindPrefix(shapes.ContainsKey)!;
        if (prefix.Length > 0) settings.Add(new("tensors under", prefix));
        if (yamlProblem is not null) settings.Add(new("config problem", yamlProblem));

        string kind = c.Kind == VqganKind.GumbelVQ ? "VQGAN (GumbelVQ)" : "VQGAN (VQModel)";
        return new ModelRecognition($"{kind} f{c.DownsamplingFactor}, {c.NEmbed} codes", settings);
    }
}
