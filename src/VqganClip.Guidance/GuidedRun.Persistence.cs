using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TorchSharp;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Guidance.Losses;
using VqganClip.Guidance.Optimization;
using VqganClip.Guidance.Prompts;
using VqganClip.Guidance.Running;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Guidance;

public sealed partial class GuidedRun
{
    /// <summary>File names inside a saved run folder.</summary>
    public const string RunFileName = "run.json", StateFileName = "state.safetensors", ImageFileName = "image.png";
    private const string Format = "vqgan-clip-run";
    private const int FormatVersion = 1;

    /// <summary>The JSON settings of run files (indented, enums as names, NaN/infinity allowed).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// Writes a resumable run folder: <c>run.json</c> (options, prompts as text, generator spec, optimizer
    /// hyper-parameters and counters, history), <c>state.safetensors</c> (generator parameters, optimizer moments,
    /// the random generator's state, regulariser anchors, image-prompt embeddings) and <c>image.png</c> (the current
    /// picture). Returns the folder.
    /// </summary>
    public string Save(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Directory.CreateDirectory(directory);
        var tensors = new List<(string Name, Tensor Tensor)>();
        try
        {
            using (var g = Generator.StateDict())
                foreach (var name in g.Keys.ToList()) tensors.Add(("generator." + name, g.Detach(name)));
            var (optTensors, optJson) = OptimizerStateIO.Save(_optimizer);
            tensors.AddRange(optTensors);
            tensors.Add(("rng.state", _rng.get_state()));
            for (int i = 0; i < _regularizers.Count; i++)
                foreach (var (name, t) in _regularizers[i].State()) tensors.Add(($"regularizer.{i}.{name}", t));
            for (int i = 0; i < _prompts.Count; i++)
                // image and audio prompts: their embeddings, so a resumed run needs neither the file nor AudioCLIP
                if (_prompts[i].Spec.Source is PromptSource.Image or PromptSource.Audio)
                    tensors.Add(($"prompt.{i}.embedding", _prompts[i].Embedding.detach().cpu().clone()));

            var run = new JsonObject
            {
                ["format"] = Format,
                ["version"] = FormatVersion,
                ["step"] = StepCount,
                ["options"] = JsonSerializer.SerializeToNode(Options, Json),
                ["schedule"] = _schedule.Describe(),
                ["cutouts"] = Cutouts.Name,
                ["generator"] = JsonSerializer.SerializeToNode(GeneratorSpec.Of(Generator), Json),
                ["prompts"] = new JsonObject
                {
                    ["script"] = Script.Source,
                    ["phases"] = JsonSerializer.SerializeToNode(Script.Phases, Json),
                    ["extra"] = JsonSerializer.SerializeToNode(ExtraPrompts, Json),
                },
                ["regularizers"] = new JsonArray(_regularizers.Select(r => (JsonNode)JsonValue.Create(r.Name)!).ToArray()),
                ["optimizer"] = optJson,
                ["history"] = JsonSerializer.SerializeToNode(_history, Json),
            };
            SafeTensors.Write(Path.Combine(directory, StateFileName), tensors, new Dictionary<string, string> { ["format"] = Format });
            File.WriteAllText(Path.Combine(directory, RunFileName), run.ToJsonString(Json));
            CurrentImage().Save(Path.Combine(directory, ImageFileName));
            return directory;
        }
        finally
        {
            foreach (var (_, t) in tensors) t.Dispose();
        }
    }

    /// <summary>
    /// Continues a run saved with <see cref="Save"/>. Built-in generators are rebuilt from the saved spec
    /// (pass <paramref name="vqgan"/> for the vqgan generator); for your own, pass <paramref name="generatorFactory"/>.
    /// A schedule or cutout maker given in code must be given again. Stepping the resumed run gives exactly what the
    /// uninterrupted run would have.
    /// </summary>
    public static GuidedRun Resume(string directory, ClipModel clip, VqganModel? vqgan = null,
        Func<GeneratorSpec, IImageGenerator>? generatorFactory = null, ISchedule? schedule = null, ICutouts? cutouts = null,
        IEnumerable<IRegularizer>? regularizers = null)
    {
        var runPath = Path.Combine(directory, RunFileName);
        var statePath = Path.Combine(directory, StateFileName);
        if (!File.Exists(runPath)) throw new FileNotFoundException($"'{directory}' is not a saved run: {RunFileName} is missing.", runPath);
        if (!File.Exists(statePath)) throw new FileNotFoundException($"Saved run '{directory}' has no {StateFileName}.", statePath);
        JsonObject run;
        try { run = JsonNode.Parse(File.ReadAllText(runPath))!.AsObject(); }
        catch (JsonException e) { throw new InvalidDataException($"{runPath} is not valid JSON: {e.Message}", e); }
        if (run["format"]?.GetValue<string>() != Format)
            throw new InvalidDataException($"{runPath} is not a {Format} file.");
        if (run["version"]?.GetValue<int>() is not FormatVersion)
            throw new InvalidDataException($"{runPath} has version {run["version"]}; this build reads version {FormatVersion}.");

        var options = run["options"].Deserialize<GuidanceOptions>(Json)!;
        var savedSchedule = run["schedule"]?.GetValue<string>();
        if (savedSchedule is null && schedule is null)
            throw new ArgumentException($"The run in '{directory}' used a schedule given in code; pass it again (schedule:).", nameof(schedule));
        options = options with { CustomSchedule = schedule, CustomCutouts = cutouts };
        var savedCutouts = run["cutouts"]?.GetValue<string>();
        if (cutouts is null && savedCutouts is not ("original" or "augmented" or "bigsleep" or "styleclip"))
            throw new ArgumentException($"The run in '{directory}' used a cutout maker given in code ('{savedCutouts}'); pass it again (cutouts:).", nameof(cutouts));

        var spec = run["generator"].Deserialize<GeneratorSpec>(Json)!;
        var phases = run["prompts"]!["phases"].Deserialize<List<List<PromptSpec>>>(Json)!;
        var script = new PromptScript(run["prompts"]!["script"]!.GetValue<string>(), phases.Select(p => (IReadOnlyList<PromptSpec>)p).ToList());
        var extra = run["prompts"]!["extra"].Deserialize<List<PromptSpec>>(Json)!;

        var state = SafeTensors.Read(statePath);
        IImageGenerator? generator = null;
        try
        {
            generator = generatorFactory?.Invoke(spec) ?? GeneratorFactory.Create(spec, vqgan, clip.Device);
            if (generator.Width != spec.Width || generator.Height != spec.Height || generator.Name != spec.Name)
                throw new InvalidDataException($"The generator made for resuming is {generator.Name} {generator.Width}x{generator.Height}; the run was saved with {spec.Name} {spec.Width}x{spec.Height}.");
            using (var g = new StateDict("generator"))
            {
                foreach (var key in state.Keys.Where(k => k.StartsWith("generator.", StringComparison.Ordinal)).ToList())
                    g.Add(key["generator.".Length..], state.Detach(key));
                generator.LoadState(g);
            }
            var saved = new SavedRun(run, state);
            return new GuidedRun(generator, clip, script, options, extra, regularizers, saved);
        }
        catch
        {
            generator?.Dispose();
            state.Dispose();
            throw;
        }
    }

    /// <summary>What a saved run restores after the run object is built (optimizer, rng, regularisers, history, step).</summary>
    private sealed class SavedRun(JsonObject run, StateDict state)
    {
        public Tensor? PromptEmbedding(int index) =>
            state.TryGetValue($"prompt.{index}.embedding", out var t) ? t : null;

        public void Restore(GuidedRun target)
        {
            try
            {
                OptimizerStateIO.Load(target._optimizer, run["optimizer"]!.AsObject(), state);
                if (!state.TryGetValue("rng.state", out var rng))
                    throw new InvalidDataException("The saved run has no random generator state (rng.state).");
                target._rng.set_state(rng);
                var names = run["regularizers"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? new List<string>();
                var current = target._regularizers.Select(r => r.Name).ToList();
                if (!names.SequenceEqual(current))
                    throw new InvalidDataException($"The run was saved with regularisers [{string.Join(", ", names)}] but resumes with [{string.Join(", ", current)}].");
                for (int i = 0; i < target._regularizers.Count; i++)
                {
                    string prefix = $"regularizer.{i}.";
                    using var sd = new StateDict("regularizer");
                    foreach (var key in state.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
                        sd.Add(key[prefix.Length..], state.Detach(key));
                    target._regularizers[i].LoadState(sd);
                }
                var history = run["history"].Deserialize<List<LossRecord>>(Json) ?? new List<LossRecord>();
                target._history.AddRange(history);
                target.StepCount = run["step"]!.GetValue<int>();
            }
            finally
            {
                state.Dispose();
            }
        }
    }
}
