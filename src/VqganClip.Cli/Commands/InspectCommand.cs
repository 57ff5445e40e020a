using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using VqganClip.Cli.Inspection;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip inspect FILE [--json]</c>: format, metadata and every tensor's name, dtype and shape
/// of a checkpoint in any supported format, read without loading tensor data; plus what the
/// registered <see cref="IModelRecognizer"/>s make of it.
/// </summary>
public static class InspectCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var file = new Argument<FileInfo>("file") { Description = "Checkpoint: .safetensors, .pt/.pth/.bin/.ckpt (torch.save zip or legacy), or a TorchScript archive" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables" };
        var command = new Command("inspect", "Show a checkpoint's format, metadata and tensors (names, dtypes, shapes)") { file, json };
        var clipOptions = ClipOptions.AddTo(command);
        command.SetAction(parse => Run(parse.GetValue(file)!.FullName, parse.GetValue(json), console ?? AnsiConsole.Console, clipOptions.Read(parse)));
        return command;
    }

    /// <summary>The command body: 0 on success; errors propagate to the one error path (CliApp).
    /// <paramref name="clip"/>: what the user said about a CLIP file (config, activation), as loading would take it.</summary>
    public static int Run(string path, bool json, IAnsiConsole console, ClipLoadOptions? clip = null)
    {
        var info = Checkpoint.Inspect(path);
        var recognizers = ModelRecognizers.All.Select(r => r is ClipRecognizer && clip is not null ? new ClipRecognizer(clip) : r);
        var recognitions = recognizers.Select(r => r.Recognize(info)).OfType<ModelRecognition>().ToList();
        if (json)
            console.Profile.Out.Writer.WriteLine(ToJson(info, recognitions));
        else
            WriteTables(info, recognitions, console);
        return UserErrors.Ok;
    }

    public static string ToJson(CheckpointInfo info, IReadOnlyList<ModelRecognition> recognitions)
    {
        var tensors = new JsonArray();
        foreach (var t in info.Tensors)
            tensors.Add(new JsonObject
            {
                ["name"] = t.Name,
                ["dtype"] = t.DType.TorchName,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
            });
        var metadata = new JsonObject();
        foreach (var (k, v) in info.Metadata) metadata[k] = v;
        var recognized = new JsonArray();
        foreach (var r in recognitions)
        {
            var config = new JsonObject();
            foreach (var (k, v) in r.Configuration) config[k] = v;
            recognized.Add(new JsonObject { ["model"] = r.Model, ["config"] = config });
        }
        var root = new JsonObject
        {
            ["path"] = info.Path,
            ["format"] = info.Format,
            ["metadata"] = metadata,
            ["tensorCount"] = info.Tensors.Count,
            ["totalElements"] = info.TotalElements,
            ["totalBytes"] = info.TotalBytes,
            ["recognized"] = recognized,
            ["tensors"] = tensors,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    private static void WriteTables(CheckpointInfo info, IReadOnlyList<ModelRecognition> recognitions, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(info.Path))}[/]: {Markup.Escape(info.Format)}, "
            + $"{info.Tensors.Count} tensors, {FormatCount(info.TotalElements)} elements, {FormatBytes(info.TotalBytes)}");

        foreach (var r in recognitions)
        {
            console.MarkupLine($"Recognised as [green]{Markup.Escape(r.Model)}[/]");
            if (r.Configuration.Count > 0) console.Write(KeyValueTable("Setting", r.Configuration));
        }

        if (info.Metadata.Count > 0)
            console.Write(KeyValueTable("Metadata", info.Metadata.ToList()));

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("Name")
            .AddColumn("DType")
            .AddColumn("Shape")
            .AddColumn(new TableColumn("Elements").RightAligned());
        foreach (var t in info.Tensors)
            table.AddRow(new Text(t.Name), new Text(t.DType.TorchName), new Text(t.ShapeText), new Text(t.ElementCount.ToString("N0", CultureInfo.InvariantCulture)));
        console.Write(table);
    }

    private static Table KeyValueTable(string title, IEnumerable<KeyValuePair<string, string>> items)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumn(title).AddColumn("Value");
        foreach (var (k, v) in items) table.AddRow(new Text(k), new Text(v));
        return table;
    }

    private static string FormatCount(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (n / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    private static string FormatBytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / (double)(1L << 10)).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " bytes",
    };
}
