using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// A resumable training checkpoint folder:
/// <list type="bullet">
/// <item><c>state.json</c>: kind, step, the run's options (the run resumes with them), format version;</item>
/// <item><c>model.safetensors</c>: every parameter and buffer, float32, exact;</item>
/// <item><c>optimizer.bin</c>: TorchSharp's Adam state (step counts, first and second moments); a trainer with more
/// optimizers (a GAN's D) adds <c>optimizer-NAME.bin</c>;</item>
/// <item><c>trainer.safetensors</c>: trainer-specific tensors (e.g. codebook usage counts), optional.</item>
/// </list>
/// Random state needs no file: batches and augmentations are functions of (seed, step), see <see cref="ClipartBatches"/>.
/// Written to a temporary folder and swapped in, so a crash mid-write leaves the previous checkpoint intact.
/// </summary>
public static class TrainingCheckpoint
{
    public const string StateFile = "state.json";
    public const string ModelFile = "model.safetensors";
    public const string OptimizerFile = "optimizer.bin";
    public const string TrainerFile = "trainer.safetensors";
    public const int FormatVersion = 1;

    /// <summary>Writes a checkpoint folder, replacing any checkpoint already there.</summary>
    public static void Save(string directory, string kind, long step, JsonObject options, nn.Module model,
        OptimizerHelper optimizer, IEnumerable<(string Name, Tensor Tensor)>? trainerTensors = null,
        IEnumerable<(string Name, OptimizerHelper Optimizer)>? moreOptimizers = null)
    {
        var full = Path.GetFullPath(directory);
        var temp = full + ".writing";
        var old = full + ".old";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);

        var state = new JsonObject
        {
            ["format_version"] = FormatVersion,
            ["kind"] = kind,
            ["step"] = step,
            ["saved_utc"] = DateTime.UtcNow.ToString("o"),
            ["options"] = options.DeepClone(),
        };
        File.WriteAllText(Path.Combine(temp, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        SafeTensors.Write(Path.Combine(temp, ModelFile), model.state_dict().Select(kv => (kv.Key, kv.Value)));
        optimizer.save_state_dict(Path.Combine(temp, OptimizerFile));
        foreach (var (name, more) in moreOptimizers ?? [])
            more.save_state_dict(Path.Combine(temp, OptimizerFileOf(name)));
        if (trainerTensors is not null)
            SafeTensors.Write(Path.Combine(temp, TrainerFile), trainerTensors.Select(t => (t.Name, t.Tensor)));

        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(full)) Directory.Move(full, old);
        Directory.Move(temp, full);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>Reads <c>state.json</c> of a checkpoint folder and checks its kind.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">Not a checkpoint of this kind, or missing files.</exception>
    public static (long Step, JsonObject Options) ReadState(string directory, string kind)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Training checkpoint folder '{directory}' does not exist.");
        var statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath))
            throw new InvalidDataException($"'{directory}' is not a training checkpoint: {StateFile} is missing.");
        JsonObject state;
        try
        {
            state = JsonNode.Parse(File.ReadAllText(statePath)) as JsonObject
                ?? throw new InvalidDataException($"{statePath} is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath} is not valid JSON: {e.Message}", e);
        }
        var foundKind = state["kind"]?.GetValue<string>();
        if (foundKind != kind)
            throw new InvalidDataException($"'{directory}' holds a '{foundKind ?? "(no kind)"}' training checkpoint, not a '{kind}' one.");
        if (state["format_version"]?.GetValue<int>() != FormatVersion)
            throw new InvalidDataException($"{statePath}: unsupported checkpoint format_version (expected {FormatVersion}).");
        foreach (var file in new[] { ModelFile, OptimizerFile })
            if (!File.Exists(Path.Combine(directory, file)))
                throw new InvalidDataException($"Training checkpoint '{directory}' is incomplete: {file} is missing.");
        long step = state["step"]?.GetValue<long>() ?? throw new InvalidDataException($"{statePath} has no 'step'.");
        var options = state["options"] as JsonObject ?? throw new InvalidDataException($"{statePath} has no 'options'.");
        return (step, options);
    }

    /// <summary>
    /// Loads a checkpoint into a freshly built trainer (its weights, optimizers and step, by <paramref name="restore"/>);
    /// when the checkpoint does not load, the trainer is disposed before the error goes on, so no native memory leaks.
    /// The one shape of every trainer's Resume.
    /// </summary>
    public static T Restore<T>(T trainer, Action<T> restore) where T : IDisposable
    {
        ArgumentNullException.ThrowIfNull(restore);
        try
        {
            restore(trainer);
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    /// <summary>Copies the checkpoint's weights into <paramref name="model"/> (exact names and shapes required).</summary>
    /// <param name="optional">Names this load skips (the model keeps its own values for them), whether or not the checkpoint has them.</param>
    public static void LoadModel(string directory, nn.Module model, Func<string, bool>? optional = null)
    {
        var path = Path.Combine(directory, ModelFile);
        using var weights = SafeTensors.Read(path);
        var targets = model.state_dict().Where(kv => optional is null || !optional(kv.Key)).ToList();
        var missing = targets.Select(kv => kv.Key).Where(k => !weights.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new CheckpointFormatException(path, "training checkpoint", $"missing {missing.Count} tensor(s), first '{missing[0]}'");
        using var _ = no_grad();
        foreach (var (name, target) in targets)
        {
            var source = weights[name];
            if (!source.shape.SequenceEqual(target.shape))
                throw new CheckpointFormatException(path, "training checkpoint",
                    $"tensor '{name}' is [{string.Join(", ", source.shape)}], the model expects [{string.Join(", ", target.shape)}]");
            target.copy_(source);
        }
    }

    /// <summary>Restores optimizer state saved with <see cref="Save"/> (<paramref name="name"/>: one of its <c>moreOptimizers</c>).</summary>
    public static void LoadOptimizer(string directory, OptimizerHelper optimizer, string? name = null)
    {
        var path = Path.Combine(directory, name is null ? OptimizerFile : OptimizerFileOf(name));
        if (!File.Exists(path)) throw new InvalidDataException($"Training checkpoint '{directory}' is incomplete: {Path.GetFileName(path)} is missing.");
        optimizer.load_state_dict(path);
    }

    /// <summary>The file of a second (third, ...) optimizer of a trainer with several (a GAN's G and D): <c>optimizer-NAME.bin</c>.</summary>
    public static string OptimizerFileOf(string name) => $"optimizer-{name}.bin";

    /// <summary>The trainer tensors of a checkpoint (empty when it has none). Caller disposes.</summary>
    public static StateDict LoadTrainerTensors(string directory)
    {
        var path = Path.Combine(directory, TrainerFile);
        return File.Exists(path) ? SafeTensors.Read(path) : new StateDict(CheckpointFormats.SafeTensors, path);
    }
}
