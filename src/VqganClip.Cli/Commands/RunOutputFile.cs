using System.Text.Json;
using System.Text.Json.Nodes;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>output.json</c> in a saved run folder, beside <c>run.json</c>: the PNG path <c>generate</c> wrote, so that
/// <c>generate --resume</c> writes there again instead of into the current folder.
/// </summary>
public static class RunOutputFile
{
    public const string FileName = "output.json";

    public static void Write(string runDirectory, string outputPath) =>
        File.WriteAllText(Path.Combine(runDirectory, FileName),
            new JsonObject { ["out"] = Path.GetFullPath(outputPath) }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>The output path stored in <paramref name="runDirectory"/>, or null (a run folder saved before this file existed).</summary>
    public static string? Read(string runDirectory)
    {
        var path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return null;
        return JsonNode.Parse(File.ReadAllText(path))?["out"]?.GetValue<string>();
    }
}
