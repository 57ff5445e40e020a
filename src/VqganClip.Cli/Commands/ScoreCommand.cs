using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;

namespace VqganClip.Cli.Commands;

/// <summary><c>vqgan-clip score --clip FILE IMAGE "text" "text" ...</c>: CLIP zero-shot ranking of texts for one image; <c>--audio FILE.wav --audioclip FILE "text" ...</c> for a sound.</summary>
public static class ScoreCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var clipOption = new Option<FileInfo?>("--clip")
        {
            Description = "CLIP checkpoint: OpenAI .pt (JIT or state dict), .safetensors/.bin with OpenAI or Hugging Face names (required unless --audio with an AudioCLIP file that holds its CLIP towers)",
        };
        var audioOption = new Option<FileInfo?>("--audio") { Description = "Score a WAV sound instead of an image (AudioCLIP zero-shot): every argument is then a text" };
        var audioClipOption = new Option<FileInfo?>("--audioclip") { Description = "AudioCLIP checkpoint for --audio (its CLIP's text tower scores the texts unless --clip is given)" };
        var itemsArgument = new Argument<string[]>("image-and-texts")
        {
            Description = "The image to score (PNG/JPEG...), then the candidate descriptions; with --audio, the descriptions only",
            Arity = ArgumentArity.OneOrMore,
        };

        var command = new Command("score", "Rank texts by how well CLIP thinks they describe an image (or, with --audio and --audioclip, a sound)")
        {
            clipOption, audioOption, audioClipOption, itemsArgument,
        };
        var clipOptions = ClipOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var items = parse.GetRequiredValue(itemsArgument);
            var clip = parse.GetValue(clipOption)?.FullName;
            var output = console ?? AnsiConsole.Console;
            if (parse.GetValue(audioOption) is { } audio)
                return RunAudio(parse.GetValue(audioClipOption)?.FullName, clip, audio.FullName, items, output, clipOptions.Read(parse));
            if (parse.GetValue(audioClipOption) is not null)
                throw new ArgumentException("--audioclip scores a sound: give it with --audio FILE.wav.");
            if (clip is null) throw new ArgumentException("Option '--clip' is required to score an image.");
            if (items.Length < 2) throw new ArgumentException("Give an image and at least one text to score it against.");
            return Run(clip, Path.GetFullPath(items[0]), items[1..], output, clipOptions.Read(parse));
        });
        return command;
    }

    /// <summary>
    /// <c>score --audio FILE.wav --audioclip FILE "text" ...</c>: AudioCLIP zero-shot classification (upstream's
    /// logits_audio_text, softmax over the texts), the texts through --clip's text tower, else the AudioCLIP file's own, else
    /// the CLIP a towerless head names in its metadata (the shipped clipart head: data/clipart-clip.safetensors beside it).
    /// </summary>
    public static int RunAudio(string? audioClipPath, string? clipPath, string wavPath, IReadOnlyList<string> texts, IAnsiConsole console, ClipLoadOptions? clipOptions = null)
    {
        if (audioClipPath is null) throw new ArgumentException("--audio needs --audioclip FILE: the AudioCLIP checkpoint whose audio head embeds the sound.");
        using var model = GenerateCommand.LoadAudioClip(audioClipPath, console);
        using var clip = clipPath is not null ? ClipModel.Load(clipPath, options: clipOptions)
            : model.TakeClip() ?? (model.PairedClipPath is { } paired ? ClipModel.Load(paired, options: clipOptions)
                : throw new ArgumentException($"'{Path.GetFileName(audioClipPath)}' holds no CLIP towers and names no CLIP beside it: pass --clip with the CLIP its audio head was trained against."));
        using var samples = AudioClipInput.Load(wavPath, model.Config);
        var result = AudioZeroShot.Score(model, clip, samples, texts);

        WriteRanking(result, texts, $"AudioCLIP on {Path.GetFileName(wavPath)} ({samples.shape[1] / (double)AudioHeadConfig.SampleRate:F2} s)", console);
        return UserErrors.Ok;
    }

    /// <summary>The command body: 0 on success, 1 (one red line) for a missing/unreadable file or a non-CLIP checkpoint.</summary>
    public static int Run(string clipPath, string imagePath, IReadOnlyList<string> texts, IAnsiConsole console, ClipLoadOptions? clipOptions = null)
    {
        using var model = ClipModel.Load(clipPath, options: clipOptions);
        console.WriteLine($"Loaded CLIP {Path.GetFileName(clipPath)}: {model.Config.PublishedName ?? model.Config.Describe()}; {ClipOptions.DescribeActivation(model.Config)}");
        using var image = ImageIO.Load(imagePath);
        var result = ZeroShot.Score(model, image, texts);

        WriteRanking(result, texts, $"CLIP ({model.Config.PublishedName ?? model.Config.Describe()}) on {Path.GetFileName(imagePath)}", console);
        return UserErrors.Ok;
    }

    /// <summary>The texts ranked for the first input: rank, text, probability, cosine.</summary>
    private static void WriteRanking(ZeroShotResult result, IReadOnlyList<string> texts, string title, IAnsiConsole console)
    {
        var table = new Table().Title(Markup.Escape(title));
        table.AddColumn(new TableColumn("#").RightAligned());
        table.AddColumn("text");
        table.AddColumn(new TableColumn("probability").RightAligned());
        table.AddColumn(new TableColumn("cosine").RightAligned());
        int rank = 1;
        foreach (var t in result.Ranking(0))
            table.AddRow(
                new Text(rank++.ToString(CultureInfo.InvariantCulture)),
                new Text(texts[t]),
                new Text(result.Probabilities[0][t].ToString("P2", CultureInfo.InvariantCulture)),
                new Text(result.Cosines[0][t].ToString("F4", CultureInfo.InvariantCulture)));
        console.Write(table);
    }
}
