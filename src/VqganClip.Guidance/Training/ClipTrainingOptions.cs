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

    /// <summary>
    /// Batches of hard-negative groups (<see cref="ClipartBatches.ScenesWithKindVariants"/>): each scene drawn with one
    /// object as this many different kinds. 1 = independent scenes; the batch must be a multiple of it.
    /// </summary>
    public int KindVariants { get; init; } = 1;

    /// <summary>
    /// Radius (L2 norm over all pixels of a [0,1] image) of the adversarial perturbation each training view gets
    /// before the update; 0 = plain training. Adversarial training (Madry et al. 2018) makes the image tower's input
    /// gradients point at what a person sees (Santurkar et al. 2019), which is what guidance follows.
    /// </summary>
    public double AdversarialEps { get; init; }

    /// <summary>Projected-gradient ascent steps that find each view's perturbation (each costs one forward and backward).</summary>
    public int AdversarialSteps { get; init; } = 1;

    /// <summary>An exported CLIP whose weights start the run (fine-tuning) instead of a random initialisation; null = random.</summary>
    public string? InitFrom { get; init; }

    /// <summary>Pictures made by VQGAN guidance against the model in training, as negatives (<see cref="GuidedNegativePool"/>); null = none.</summary>
    public GuidedNegativeOptions? GuidedNegatives { get; init; }

    /// <summary>
    /// Scenes per step that also get a shape-free copy (<see cref="BlobNegatives"/>: one object replaced by a blob of its
    /// colour, mass and place) which their caption must rank below the drawing; 0 = none.
    /// </summary>
    public int BlobNegatives { get; init; }

    /// <summary>Weight of the "drawing before its blob" term against the contrastive loss.</summary>
    public double BlobWeight { get; init; } = 1.0;

    /// <summary>
    /// Scenes per step that also get a copy with one object repeated (<see cref="CopyNegatives"/>: one to three more of
    /// it elsewhere in the frame) which their caption must rank below the drawing; 0 = none.
    /// </summary>
    public int CopyNegatives { get; init; }

    /// <summary>Weight of the "drawing before its copies" term against the contrastive loss.</summary>
    public double CopyWeight { get; init; } = 1.0;

    public ClipConfig Model { get; init; } = ClipartClipArchitecture.Default;

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"--steps must be positive (got {Steps}).");
        if (BatchSize < 2) throw new ArgumentException($"--batch must be at least 2 for a contrastive loss (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"--lr must be positive (got {LearningRate}).");
        if (WarmupSteps < 0) throw new ArgumentException($"warm-up steps must not be negative (got {WarmupSteps}).");
        if (Augment.MinScale is <= 0 or > 1) throw new ArgumentException($"crop scale must be in (0, 1] (got {Augment.MinScale}).");
        if (!(Augment.NoiseStd >= 0)) throw new ArgumentException($"--noise must not be negative (got {Augment.NoiseStd}).");
        if (KindVariants < 1 || KindVariants > ClipartWorld.Vocabulary.Kinds.Length)
            throw new ArgumentException($"--kind-variants must be between 1 and {ClipartWorld.Vocabulary.Kinds.Length} (got {KindVariants}).");
        if (BatchSize % KindVariants != 0)
            throw new ArgumentException($"--batch ({BatchSize}) must be a multiple of --kind-variants ({KindVariants}).");
        if (!(AdversarialEps >= 0)) throw new ArgumentException($"--adversarial-eps must not be negative (got {AdversarialEps}).");
        if (AdversarialSteps < 1) throw new ArgumentException($"--adversarial-steps must be at least 1 (got {AdversarialSteps}).");
        GuidedNegatives?.Validate();
        if (BlobNegatives < 0 || BlobNegatives > BatchSize)
            throw new ArgumentException($"--blob-negatives must be between 0 and the batch size {BatchSize} (got {BlobNegatives}).");
        if (!(BlobWeight >= 0) || double.IsInfinity(BlobWeight)) throw new ArgumentException($"--blob-weight must be a non-negative number (got {BlobWeight}).");
        if (CopyNegatives < 0 || CopyNegatives > BatchSize)
            throw new ArgumentException($"--copy-negatives must be between 0 and the batch size {BatchSize} (got {CopyNegatives}).");
        if (!(CopyWeight >= 0) || double.IsInfinity(CopyWeight)) throw new ArgumentException($"--copy-weight must be a non-negative number (got {CopyWeight}).");
        Model.Validate();   // also a ResNet's resolution: a multiple of its downsampling, 32
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
        ["adversarial_eps"] = AdversarialEps,
        ["adversarial_steps"] = AdversarialSteps,
        ["init_from"] = InitFrom,
        ["guided_negatives"] = GuidedNegatives is null ? null : JsonSerializer.SerializeToNode(GuidedNegatives, Json),
        ["blob_negatives"] = BlobNegatives,
        ["blob_weight"] = BlobWeight,
        ["copy_negatives"] = CopyNegatives,
        ["copy_weight"] = CopyWeight,
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
            // Absent in runs saved before adversarial training existed: those were plain runs.
            KindVariants = json["kind_variants"]?.GetValue<int>() ?? 1,
            AdversarialEps = json["adversarial_eps"]?.GetValue<double>() ?? 0,
            AdversarialSteps = json["adversarial_steps"]?.GetValue<int>() ?? 1,
            InitFrom = json["init_from"]?.GetValue<string>(),
            GuidedNegatives = json["guided_negatives"]?.Deserialize<GuidedNegativeOptions>(Json),
            BlobNegatives = json["blob_negatives"]?.GetValue<int>() ?? 0,
            BlobWeight = json["blob_weight"]?.GetValue<double>() ?? 1.0,
            CopyNegatives = json["copy_negatives"]?.GetValue<int>() ?? 0,
            CopyWeight = json["copy_weight"]?.GetValue<double>() ?? 1.0,
            Augment = Node("augment").Deserialize<ClipAugment>(Json) ?? throw new InvalidDataException("CLIP training options: bad 'augment'."),
            Model = Node("model").Deserialize<ClipConfig>(Json) ?? throw new InvalidDataException("CLIP training options: bad 'model'."),
        };
    }
}
