using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using VqganClip.Guidance;
using VqganClip.Models.Images;
using VqganClip.Models.Pix2Pix;
using VqganClip.Models.Runtime;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip pix2pix OUTLINE.png</c>: colours an outline drawing with a pix2pix U-Net generator — the shipped
/// clipart one (<see cref="ShippedModels.FindPix2Pix"/>) or <c>--model</c> (upstream's latest_net_G.pth or a
/// safetensors). Evaluation mode by default; <c>--train-mode</c> is upstream's test-time default (batch statistics,
/// dropout; seeded). Writes OUTLINE-pix2pix.png (never overwriting) with the settings in its text chunks.
/// </summary>
public static class Pix2PixCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var outline = new Argument<string>("outline") { Description = "The outline drawing to colour (PNG, JPEG, WebP)" };
        var model = new Option<string?>("--model") { Description = $"Generator: latest_net_G.pth (pytorch-CycleGAN-and-pix2pix, unet_128/unet_256 or any num_downs) or .safetensors (default: the shipped data/{ShippedModels.Pix2PixFileName})" };
        var output = new Option<string?>("--out") { Description = "Output image (default: OUTLINE's name + -pix2pix.png in the current folder; never overwrites: adds -2, -3, ...)" };
        var trainMode = new Option<bool>("--train-mode") { Description = "Run the generator in training mode (batch statistics, dropout active), as upstream's test.py does without --eval" };
        var size = new Option<int?>("--size") { Description = "Side the outline is resized to (default: the side the model was trained at when stored, else the image's, rounded to a multiple of 2^num_downs)" };
        var seed = new Option<long>("--seed") { Description = "Seed of the dropout masks in --train-mode", DefaultValueFactory = _ => 0 };
        var threads = ThreadsOption.Create();
        var command = new Command("pix2pix", "Colour an outline drawing with a pix2pix U-Net (the shipped clipart one, or a published latest_net_G.pth)")
        {
            outline, model, output, trainMode, size, seed, threads,
        };
        command.SetAction(parse => Run(parse.GetValue(outline)!, parse.GetValue(model), parse.GetValue(output), parse.GetValue(trainMode),
            parse.GetValue(size), parse.GetValue(seed), parse.GetValue(threads), console));
        return command;
    }

    /// <summary>Runs the command; user errors (missing or unreadable image or model, named) propagate to <see cref="CliApp"/>.</summary>
    public static int Run(string outline, string? modelPath, string? output, bool trainMode, int? size, long seed, int? threads, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(threads);
        if (!File.Exists(outline)) throw new FileNotFoundException($"Outline image not found: {outline}", outline);
        using var picture = ImageIO.Load(outline);
        var path = modelPath ?? ShippedModels.RequirePix2Pix();
        using var g = UnetGenerator.Load(path);
        TorchRuntime.Seed(seed).Dispose();
        var watch = Stopwatch.StartNew();
        using var coloured = Pix2PixColouring.Colour(g, picture, trainMode, size);
        var outPath = Path.GetFullPath(output ?? DefaultOutput(outline, Directory.GetCurrentDirectory()));
        ImageIO.Save(coloured, outPath, new Dictionary<string, string>
        {
            ["Software"] = "vqgan-clip pix2pix",
            ["outline"] = Path.GetFileName(outline),
            ["model"] = Path.GetFileName(path),
            ["mode"] = trainMode ? "train" : "eval",
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
        });
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Coloured {Path.GetFileName(outline)} with {Path.GetFileName(path)} ({g.Config.Name}, ngf {g.Config.Ngf}, {(trainMode ? "training" : "evaluation")} mode) at {coloured.shape[3]}x{coloured.shape[2]} in {watch.Elapsed.TotalSeconds:F1} s."));
        console.WriteLine(outPath);
        return UserErrors.Ok;
    }

    /// <summary>OUTLINE's name + "-pix2pix.png" in <paramref name="folder"/>, with -2, -3, ... so nothing is overwritten.</summary>
    public static string DefaultOutput(string outline, string folder)
    {
        var stem = Path.GetFileNameWithoutExtension(outline) + "-pix2pix";
        var path = Path.Combine(folder, stem + ".png");
        for (int n = 2; File.Exists(path); n++) path = Path.Combine(folder, FormattableString.Invariant($"{stem}-{n}.png"));
        return path;
    }
}
