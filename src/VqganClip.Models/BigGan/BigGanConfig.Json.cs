using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VqganClip.Models.BigGan;

public sealed partial record BigGanConfig
{
    /// <summary>The JSON keys of upstream's <c>BigGANConfig.to_json_string()</c>, sorted as it writes them.</summary>
    public static readonly IReadOnlyList<string> JsonKeys =
        ["attention_layer_position", "channel_width", "class_embed_dim", "eps", "layers", "n_stats", "num_classes", "output_dim", "z_dim"];

    /// <summary>Reads a config.json (the published <c>biggan-deep-*-config.json</c> or one <see cref="ToJson"/> wrote).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">Not JSON, or a key is missing or has the wrong type (the message names it).</exception>
    public static BigGanConfig FromJsonFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"BigGAN config '{path}' does not exist.", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Parses upstream's config JSON. Every key of <see cref="JsonKeys"/> is required (upstream's <c>from_dict</c> would
    /// silently take the 128 px defaults for a missing one; here a missing key is an error that names it). Unknown
    /// keys are ignored, as upstream stores them without using them. The result is validated.
    /// </summary>
    public static BigGanConfig FromJson(string json, string source = "JSON")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new FormatException($"BigGAN config ({source}) is not valid JSON: {e.Message}", e); }
        if (root is not JsonObject obj) throw new FormatException($"BigGAN config ({source}) must be a JSON object.");

        JsonNode Need(string key) => obj[key] ?? throw new FormatException(
            obj.ContainsKey(key) ? $"BigGAN config ({source}): '{key}' is null." : $"BigGAN config ({source}): key '{key}' is missing.");
        int Int(string key) => ReadInt(Need(key), $"'{key}'", source);

        double eps;
        try { eps = Need("eps").GetValue<double>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new FormatException($"BigGAN config ({source}): 'eps' must be a number (got {obj["eps"]?.ToJsonString()}).", e); }

        if (Need("layers") is not JsonArray layersNode)
            throw new FormatException($"BigGAN config ({source}): 'layers' must be a list of [up_sample, in, out] (got {obj["layers"]!.ToJsonString()}).");
        var layers = new List<BigGanLayer>();
        for (int i = 0; i < layersNode.Count; i++)
        {
            if (layersNode[i] is not JsonArray entry || entry.Count != 3 || entry.Any(n => n is null))
                throw new FormatException($"BigGAN config ({source}): layers[{i}] must be [up_sample, in, out] (got {layersNode[i]?.ToJsonString() ?? "null"}).");
            layers.Add(new BigGanLayer(ReadBool(entry[0]!, $"layers[{i}][0]", source), ReadInt(entry[1]!, $"layers[{i}][1]", source), ReadInt(entry[2]!, $"layers[{i}][2]", source)));
        }

        var config = new BigGanConfig
        {
            OutputDim = Int("output_dim"),
            ZDim = Int("z_dim"),
            ClassEmbedDim = Int("class_embed_dim"),
            ChannelWidth = Int("channel_width"),
            NumClasses = Int("num_classes"),
            Layers = layers,
            AttentionLayerPosition = Int("attention_layer_position"),
            Eps = eps,
            NStats = Int("n_stats"),
            Source = source,
        };
        config.Validate();
        return config;
    }

    /// <summary>upstream's <c>to_json_string()</c>: sorted keys, indent 2, layers as [up, in, out] lists, trailing newline.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder();
        sb.Append("{\n");
        sb.Append($"  \"attention_layer_position\": {AttentionLayerPosition},\n");
        sb.Append($"  \"channel_width\": {ChannelWidth},\n");
        sb.Append($"  \"class_embed_dim\": {ClassEmbedDim},\n");
        sb.Append($"  \"eps\": {Eps.ToString("R", CultureInfo.InvariantCulture)},\n");
        sb.Append("  \"layers\": [\n");
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            sb.Append($"    [\n      {(l.UpSample ? "true" : "false")},\n      {l.InMultiplier},\n      {l.OutMultiplier}\n    ]");
            sb.Append(i + 1 < Layers.Count ? ",\n" : "\n");
        }
        sb.Append("  ],\n");
        sb.Append($"  \"n_stats\": {NStats},\n");
        sb.Append($"  \"num_classes\": {NumClasses},\n");
        sb.Append($"  \"output_dim\": {OutputDim},\n");
        sb.Append($"  \"z_dim\": {ZDim}\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    private static int ReadInt(JsonNode node, string what, string source)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (v.TryGetValue<int>(out var i)) return i;
            // Python may write 16.0 for an int computed as a float.
            if (v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue) return (int)d;
        }
        throw new FormatException($"BigGAN config ({source}): {what} must be an integer (got {node.ToJsonString()}).");
    }

    private static bool ReadBool(JsonNode node, string what, string source)
    {
        if (node is JsonValue v)
        {
            if (v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
            // Python truthiness of 0/1 (upstream only tests `if up_sample`).
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) && (i == 0 || i == 1)) return i == 1;
        }
        throw new FormatException($"BigGAN config ({source}): {what} (up_sample) must be true or false (got {node.ToJsonString()}).");
    }
}
