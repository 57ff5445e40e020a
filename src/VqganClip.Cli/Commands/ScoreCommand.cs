using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;

namespace VqganClip.Cli.Commands;

/// <summary><c>vqgan-clip score --clip FILE IMAGE "text" "text" ...</c>: CLIP zero-shot ranking of texts for one image.</summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var clipOption = new Option<FileInfo>("--clip")
        {
            Description = "CLIP checkpoint: OpenAI .pt (JIT or state dict), .safetensors/.bin with OpenAI or Hugging Face names",
            Required = true,
        };
        var imageArgument = new Argument<FileInfo>("image") { Description = "Image to score (PNG/JPEG...)" };
        var textsArgument = new Argument<string[]>("texts")
        {
            Description = "Candidate descriptions",
            Arity = ArgumentArity.OneOrMore,
        };

        var command = new Command("score", "Rank texts by how well CLIP thinks they describe an image")
        {
            clipOption, imageArgument, textsArgument,
        };
        command.SetAction(parse =>
        {
            var clipFile = parse.GetRequiredValue(clipOption);
            var imageFile = parse.GetRequiredValue(imageArgument);
            var texts = parse.GetRequiredValue(textsArgument);
            try
            {
                return Run(clipFile.FullName, imageFile.FullName, texts);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or Models.IO.CheckpointFormatException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int Run(string clipPath, string imagePath, IReadOnlyList<string> texts)
    {
        using var model = ClipModel.Load(clipPath);
        using var image = ImageIO.Load(imagePath);
        var result = ZeroShot.Score(model, image, texts);

        var table = new Table().Title(Markup.Escape($"CLIP ({model.Config.PublishedName ?? model.Config.Describe()}) on {Path.GetFileName(imagePath)}"));
        table.AddColumn(new TableColumn("#").RightAligned());
        table.AddColumn("text");
        table.AddColumn(new TableColumn("probability").RightAligned());
        table.AddColumn(new TableColumn("cosine").RightAligned());
        int rank = 1;
        foreach (var t in result.Ranking(0))
        {
            table.AddRow(
                rank++.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(texts[t]),
                result.Probabilities[0][t].ToString("P2", CultureInfo.InvariantCulture),
                result.Cosines[0][t].ToString("F4", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
