using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;

namespace VqganClip.Cli.Commands;

/// <summary><c>vqgan-clip score --clip FILE IMAGE "text" "text" ...</c>: CLIP zero-shot ranking of texts for one image.</summary>
public static class ScoreCommand
{
    public static Command Create(IAnsiConsole? console = null)
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
        var clipOptions = ClipOptions.AddTo(command);
        command.SetAction(parse => Run(
            parse.GetRequiredValue(clipOption).FullName,
            parse.GetRequiredValue(imageArgument).FullName,
            parse.GetRequiredValue(textsArgument),
            console ?? AnsiConsole.Console,
            clipOptions.Read(parse)));
        return command;
    }

    /// <summary>The command body: 0 on success, 1 (one red line) for a missing/unreadable file or a non-CLIP checkpoint.</summary>
    public static int Run(string clipPath, string imagePath, IReadOnlyList<string> texts, IAnsiConsole console, ClipLoadOptions? clipOptions = null)
    {
        using var model = ClipModel.Load(clipPath, options: clipOptions);
        console.WriteLine($"Loaded CLIP {Path.GetFileName(clipPath)}: {model.Config.PublishedName ?? model.Config.Describe()}; {ClipOptions.DescribeActivation(model.Config)}");
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
                new Text(rank++.ToString(CultureInfo.InvariantCulture)),
                new Text(texts[t]),
                new Text(result.Probabilities[0][t].ToString("P2", CultureInfo.InvariantCulture)),
                new Text(result.Cosines[0][t].ToString("F4", CultureInfo.InvariantCulture)));
        }
        console.Write(table);
        return UserErrors.Ok;
    }
}
