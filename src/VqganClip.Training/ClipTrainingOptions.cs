using System.Text.Json;
using System.Text.Json.Nodes;
using VqganClip.Models.Clip;

namespace VqganClip.Training;

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

    /// <summary>
    /// Batches of hard-negative groups (<see cref="ClipartBatches.ScenesWithKindVariants"/>): each scene drawn with one
    /// object as this many different kinds. 1 = independent scenes; the batch must be a multiple of it.
    /// </summary>
    public int KindVariants { get; init; } = 1;

    /// <summary>An exported CLIP whose weights start the run (fine-tuning) instead of a random initialisation; null = random.</summary>
    public string? InitFrom { get; init; }

    /// <summary>Pictures made by VQGAN guidance against the model in training, as negatives (<see cref="GuidedNegativePool"/>); null = none.</summary>
    public GuidedNegativeOptions? GuidedNegatives { get; init; }

    public ClipConfig Model { get; init; } = ClipartClipArchitecture.Default;

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Steps must be positive (got {Steps}).");
        if (BatchSize < 2) throw new ArgumentException($"BatchSize must be at least 2 for a contrastive loss (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"LearningRate must be positive (got {LearningRate}).");
        if (WarmupSteps < 0) throw new ArgumentException($"warm-up steps must not be negative (got {WarmupSteps}).");
        if (Augment.MinScale is <= 0 or > 1) throw new ArgumentException($"crop scale must be in (0, 1] (got {Augment.MinScale}).");
        if (KindVariants < 1 || KindVariants > Clipart.Vocabulary.Kinds.Length)
            throw new ArgumentException($"KindVariants must be between 1 and {Clipart.Vocabulary.Kinds.Length} (got {KindVariants}).");
        if (BatchSize % KindVariants != 0)
            throw new ArgumentException($"BatchSize ({BatchSize}) must be a multiple of KindVariants ({KindVariants}).");
        GuidedNegatives?.Validate();
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
        ["kind_variants"] = KindVariants,
        ["init_from"] = InitFrom,
        ["guided_negatives"] = GuidedNegatives is null ? null : JsonSerializer.SerializeToNode(GuidedNegatives, Json),
        ["augment"] = JsonSerializer.SerializeToNode(Augment, Json),
        ["model"] = JsonSerializer.SerializeToNode(Model, Json),
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
            // Absent in runs saved before hard-negative batches existed: those were independent scenes.
            KindVariants = json["kind_variants"]?.GetValue<int>() ?? 1,
            InitFrom = json["init_from"]?.GetValue<string>(),
            GuidedNegatives = json["guided_negatives"]?.Deserialize<GuidedNegativeOptions>(Json),
            Augment = Node("augment").Deserialize<ClipAugment>(Json) ?? throw new InvalidDataException("CLIP training options: bad 'augment'."),
            Model = Node("model").Deserialize<ClipConfig>(Json) ?? throw new InvalidDataException("CLIP training options: bad 'model'."),
        };
    }
}
