using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;
using TorchSharp;
using VqganClip.Guidance.DeepDream;
using VqganClip.Models.Clip;
using VqganClip.Models.Images;
using VqganClip.Models.Onnx;
using VqganClip.Models.Runtime;

namespace VqganClip.Cli.Commands;

/// <summary>
/// <c>vqgan-clip dream IMAGE</c>: DeepDream (<see cref="DeepDreamer"/>) on ML.NET's trained ResNet18 from the NuGet
/// packages folder (<see cref="OnnxResNet.FindDefaultModel"/>), <c>--model FILE.onnx</c> or a ResNet CLIP's image
/// tower (<c>--clip FILE</c>); <c>--list-layers</c>
/// prints the layers that can be dreamed on. Writes IMAGE-dream.png (never overwriting) with the settings and a
/// command that reproduces it in its text chunks.
/// </summary>
public static class DreamCommand
{
    public static Command Create(IAnsiConsole? console = null)
    {
        var image = new Argument<string?>("image") { Description = "The picture to dream on (PNG, JPEG, WebP)", Arity = ArgumentArity.ZeroOrOne };
        var d = new DreamSettings();
        var layer = new Option<string?>("--layer") { Description = "Layer to amplify: a friendly name (stem, stage1.block1 ... stage4.block3, their .add and .relu) or an ONNX value name (default stage3.block1); with --clip layer1 ... layer4, layerS.B (default layer3); see --list-layers" };
        var channel = new Option<int?>("--channel") { Description = "Amplify one channel's mean instead of the whole layer's L2 (\"what excites this unit\")" };
        var octaves = new Option<int>("--octaves") { Description = $"Scales from small to full size, the detail carried between them (default {d.Octaves})", DefaultValueFactory = _ => d.Octaves };
        var octaveScale = new Option<double>("--octave-scale") { Description = $"Size ratio between octaves (default {d.OctaveScale.ToString(CultureInfo.InvariantCulture)})", DefaultValueFactory = _ => d.OctaveScale };
        var steps = new Option<int>("--steps") { Description = $"Gradient ascent steps per octave (default {d.Steps})", DefaultValueFactory = _ => d.Steps };
        var lr = new Option<double>("--lr") { Description = $"Step size in 0..255 pixel units, divided by the gradient's mean magnitude (default {d.StepSize.ToString(CultureInfo.InvariantCulture)})", DefaultValueFactory = _ => d.StepSize };
        var jitter = new Option<int>("--jitter") { Description = $"Largest random shift in pixels before each step (default {d.Jitter})", DefaultValueFactory = _ => d.Jitter };
        var seed = new Option<long>("--seed") { Description = "Seed of the jitter (default 0)", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Output PNG (default: IMAGE's name + -dream.png in the current folder; never overwrites: adds -2, -3, ...)" };
        var model = new Option<string?>("--model") { Description = $"ONNX network (default: ResNet18.onnx of the NuGet package {OnnxResNet.PackageId} {OnnxResNet.PackageVersion}, which `dotnet restore` of the tool downloads)" };
        var clip = new Option<string?>("--clip") { Description = "Dream on a ResNet CLIP's image tower instead (RN50, RN101, RN50x4, ... in any format the toolkit reads)" };
        var listLayers = new Option<bool>("--list-layers") { Description = "Print the network's layers (friendly and ONNX names, channels) and exit" };
        var threads = ThreadsOption.Create();
        var command = new Command("dream", "DeepDream: amplify what a trained ResNet18 sees in a picture (gradient ascent on a layer, jitter, octaves)")
        {
            image, layer, channel, octaves, octaveScale, steps, lr, jitter, seed, output, model, clip, listLayers, threads,
        };
        command.SetAction(parse => Run(new DreamOptions
        {
            Image = parse.GetValue(image),
            Settings = new DreamSettings
            {
                Layer = parse.GetValue(layer),
                Channel = parse.GetValue(channel),
                Octaves = parse.GetValue(octaves),
                OctaveScale = parse.GetValue(octaveScale),
                Steps = parse.GetValue(steps),
                StepSize = parse.GetValue(lr),
                Jitter = parse.GetValue(jitter),
                Seed = parse.GetValue(seed),
            },
            Output = parse.GetValue(output),
            Model = parse.GetValue(model),
            Clip = parse.GetValue(clip),
            ListLayers = parse.GetValue(listLayers),
            Threads = parse.GetValue(threads),
        }, console));
        return command;
    }

    /// <summary>What the command line says.</summary>
    public sealed record DreamOptions
    {
        public string? Image { get; init; }
        public DreamSettings Settings { get; init; } = new();
        public string? Output { get; init; }
        public string? Model { get; init; }
        /// <summary>A ResNet CLIP whose image tower is dreamed on instead of the ResNet18.</summary>
        public string? Clip { get; init; }
        public bool ListLayers { get; init; }
        public int? Threads { get; init; }
    }

    /// <summary>Runs the command; user errors propagate to <see cref="CliApp"/>'s one error path.</summary>
    public static int Run(DreamOptions o, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        TorchRuntime.EnsureInitialized();
        ThreadsOption.Apply(o.Threads);
        if (!o.ListLayers)
        {
            if (o.Image is null) throw new ArgumentException("dream needs an IMAGE (or --list-layers).");
            if (!File.Exists(o.Image)) throw new FileNotFoundException($"Image file not found: {o.Image}", o.Image);
            o.Settings.Validate();   // the cheap checks before loading the network
        }
        if (o.Clip is not null && o.Model is not null) throw new ArgumentException("--clip and --model name two networks; give one.");
        string modelPath = o.Clip ?? o.Model ?? OnnxResNet.RequireDefaultModel();
        OnnxResNet? resnet = null;
        ClipModel? clipModel = null;
        IDreamNetwork network;
        if (o.Clip is not null)
        {
            clipModel = ClipModel.Load(o.Clip);
            try { network = ClipResNetDreamNetwork.From(clipModel, o.Clip); }
            catch { clipModel.Dispose(); throw; }
        }
        else network = new ResNet18DreamNetwork(resnet = OnnxResNet.Load(modelPath));
        using var ownedResNet = resnet;
        using var ownedClip = clipModel;
        if (o.ListLayers)
        {
            if (resnet is not null) PrintLayers(resnet, console);
            else console.WriteLine($"{modelPath} ({network.Description}): {string.Join(", ", network.LayerNames)}");
            return UserErrors.Ok;
        }

        using var picture = ImageIO.Load(o.Image!);
        var dreamer = new DeepDreamer(network);
        var s = o.Settings;
        console.MarkupLineInterpolated($"Dreaming on [bold]{s.Layer ?? network.DefaultLayer}[/]{(s.Channel is int c ? $" channel {c}" : "")} of {Path.GetFileName(modelPath)}: {picture.shape[3]}x{picture.shape[2]}, {s.Octaves} octave(s) x {s.Steps} step(s), seed {s.Seed}.");
        var watch = Stopwatch.StartNew();
        double lastObjective = double.NaN;
        torch.Tensor? result = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("dreaming", maxValue: Math.Max(1, s.Octaves * s.Steps));
                result = dreamer.Dream(picture, s, p =>
                {
                    lastObjective = p.Objective;
                    task.Description = $"octave {p.Octave + 1}/{p.Octaves} ({p.Width}x{p.Height})";
                    task.Increment(1);
                });
                task.Value = task.MaxValue;
            });
        using var dreamed = result!;
        var outPath = Path.GetFullPath(o.Output ?? DefaultOutput(o.Image!, Directory.GetCurrentDirectory()));
        ImageIO.Save(dreamed, outPath, TextChunks(o, modelPath, network.DefaultLayer));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Done in {watch.Elapsed.TotalSeconds:F1} s (last objective {lastObjective:G4})."));
        console.WriteLine(outPath);
        return UserErrors.Ok;
    }

    private static void PrintLayers(OnnxResNet network, IAnsiConsole console)
    {
        console.WriteLine($"{network.FilePath} ({network.Network.Producer}), input {network.Network.InputName}, mean (B,G,R) from {network.MeanSource}");
        var table = new Table().AddColumns("layer", "ONNX value", "operator", "channels");
        foreach (var l in network.Layers.Where(l => l.Operator is "Relu" or "MaxPool" or "AveragePool" or "Add"))
            table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Output), l.Operator, l.Channels > 0 ? l.Channels.ToString(CultureInfo.InvariantCulture) : "?");
        console.Write(table);
        console.WriteLine("Convolutions and batch norms can be named by their ONNX value too (Convolution249_Output_0, ...).");
    }

    /// <summary>IMAGE's name + "-dream.png" in <paramref name="folder"/>, with -2, -3, ... so nothing is overwritten.</summary>
    public static string DefaultOutput(string image, string folder)
    {
        var stem = Path.GetFileNameWithoutExtension(image) + "-dream";
        var path = Path.Combine(folder, stem + ".png");
        for (int n = 2; File.Exists(path); n++) path = Path.Combine(folder, FormattableString.Invariant($"{stem}-{n}.png"));
        return path;
    }

    /// <summary>PNG tEXt chunks: every setting and a command that reproduces the picture.</summary>
    public static Dictionary<string, string> TextChunks(DreamOptions o, string modelPath, string defaultLayer)
    {
        var s = o.Settings with { Layer = o.Settings.Layer ?? defaultLayer };
        var chunks = new Dictionary<string, string>(s.Describe().ToDictionary(kv => kv.Key, kv => kv.Value))
        {
            ["Software"] = "vqgan-clip dream",
            ["image"] = Path.GetFileName(o.Image!),
            ["model"] = Path.GetFileName(modelPath),
        };
        var cmd = new StringBuilder("vqgan-clip dream ").Append(Quote(o.Image!));
        cmd.Append(" --layer ").Append(Quote(s.Layer!));
        if (s.Channel is int c) cmd.Append(CultureInfo.InvariantCulture, $" --channel {c}");
        cmd.Append(CultureInfo.InvariantCulture, $" --octaves {s.Octaves} --octave-scale {s.OctaveScale:R} --steps {s.Steps} --lr {s.StepSize:R} --jitter {s.Jitter} --seed {s.Seed}");
        if (o.Model is not null) cmd.Append(" --model ").Append(Quote(o.Model));
        if (o.Clip is not null) cmd.Append(" --clip ").Append(Quote(o.Clip));
        chunks["command"] = cmd.ToString();
        return chunks;
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
