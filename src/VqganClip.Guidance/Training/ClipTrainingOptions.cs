using System.Text.Json;
using System.Text.Json.Nodes;
using VqganClip.Models.Clip;

namespace VqganClip.Guidance.Training;

/// <summary>Settings of a clipart CLIP training run (saved in its checkpoints; a resumed run keeps them).</summary>
public sealed record ClipTrainingOptions
{
    public long Steps { get; init; } = 3000;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 5e-4;
    public long WarmupSteps { get; init; } = 200;
    public int Seed { get; init; } = 1;

    /// <summary>Global gradient-norm clip (0 = none).</summary>
    public double GradClip { get; init; } = 1.0;

    public ClipAugment Augment { get; init; } = new();

    public ClipConfig Model { get; init; } = ClipartClipArchitecture.Default;

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"--steps must be positive (got {Steps}).");
        if (BatchSize < 2) throw new ArgumentException($"--batch must be at least 2 for a contrastive loss (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"--lr must be positive (got {LearningRate}).");
        if (WarmupSteps < 0) throw new ArgumentException($"warm-up steps must not be negative (got {WarmupSteps}).");
        if (Augment.MinScale is <= 0 or > 1) throw new ArgumentException($"crop scale must be in (0, 1] (got {Augment.MinScale}).");
        if (Model.IsResNet) throw new ArgumentException("The trainer builds ViT CLIPs only.");
        Model.Validate();
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps,
        ["batch_size"] = BatchSize,
        ["learning_rate"] = LearningRate,
        ["warmup_steps"] = WarmupSteps,
        ["seed"] = Seed,
        ["grad_clip"] = GradClip,
        ["augment"] = JsonSerializer.SerializeToNode(Augment, Json),
        ["model"] = JsonSerializer.SerializeToNode(Model with { VisionResNetLayers = null }, Json),
    };

    public static ClipTrainingOptions FromJson(JsonObject json)
    {
        JsonNode Node(string key) => json[key] ?? throw new InvalidDataException($"CLIP training options: '{key}' is missing.");
        T Get<T>(string key) => Node(key).GetValue<T>();
        return new ClipTrainingOptions
        {
            Steps = Get<long>("steps"),
            BatchSize = Get<int>("batch_size"),
            LearningRate = Get<double>("learning_rate"),
            WarmupSteps = Get<long>("warmup_steps"),
            Seed = Get<int>("seed"),
            GradClip = Get<double>("grad_clip"),
            Augment = Node("augment").Deserialize<ClipAugment>(Json) ?? throw new InvalidDataException("CLIP training options: bad 'augment'."),
            Model = Node("model").Deserialize<ClipConfig>(Json) ?? throw new InvalidDataException("CLIP training options: bad 'model'."),
        };
    }
}
