using System.Text.Json.Nodes;
using VqganClip.Models.Vqgan;

namespace VqganClip.Training;

/// <summary>Settings of a clipart VQGAN training run (saved in its checkpoints; a resumed run keeps them).</summary>
public sealed record VqganTrainingOptions
{
    public long Steps { get; init; } = 4000;
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 5e-4;
    public long WarmupSteps { get; init; } = 100;

    /// <summary>Seeds the weights and the training scenes (see <see cref="ClipartBatches.StepSeed"/>).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Weights of the reconstruction terms, on pixels in [-1, 1].</summary>
    public double L1Weight { get; init; } = 1.0;
    public double L2Weight { get; init; } = 1.0;

    /// <summary>Every this many steps, codebook entries no latent chose since the last check are re-seeded from
    /// encoder outputs of the current batch (0 = never).</summary>
    public int RestartEvery { get; init; } = 50;

    /// <summary>Restarts stop after this fraction of <see cref="Steps"/>, so the last steps settle the codebook.</summary>
    public double RestartUntil { get; init; } = 0.85;

    /// <summary>Lloyd iterations of the k-means codebook initialisation on encoder outputs before step 0 (0 = taming's uniform init).</summary>
    public int KMeansIterations { get; init; } = 10;

    /// <summary>Side of the random square crops trained on (0 = whole 64x64 scenes). The network is convolutional
    /// (attention is global over whatever grid it gets), so crops cost a quarter per 32x32 sample.</summary>
    public int CropSize { get; init; } = 32;

    /// <summary>The last fraction of <see cref="Steps"/> trains on whole scenes, so GroupNorm statistics and
    /// the attention grid match what the model sees at use. This matters more than the crops save: at ch 32
    /// every GroupNorm group is one channel, so absolute colour reaches the output only through spatial context
    /// (including the image border), which crops do not show. In the shipped run, held-out PSNR sat near 22 dB
    /// after 960 crop steps and the batch PSNR rose past 27 dB within 70 whole-scene steps.</summary>
    public double FullImageFraction { get; init; } = 0.5;

    /// <summary>Train only the decoder side (<c>post_quant_conv</c> and <c>decoder</c>): the encoder, <c>quant_conv</c>
    /// and the codebook stay as the run starts them (from <c>--init-from</c>), so every picture keeps its codes and a
    /// second stage trained on those codes (the clipart transformer) still fits; only how codes are drawn improves.
    /// No codebook restarts or k-means, no VQ loss (it has no trainable part then).</summary>
    public bool DecoderOnly { get; init; }

    /// <summary>Global gradient-norm clip (0 = none).</summary>
    public double GradClip { get; init; } = 1.0;

    public VqganConfig Model { get; init; } = ClipartVqganArchitecture.Default;

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Steps must be positive (got {Steps}).");
        if (BatchSize <= 0) throw new ArgumentException($"BatchSize must be positive (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"LearningRate must be positive (got {LearningRate}).");
        if (WarmupSteps < 0) throw new ArgumentException($"warm-up steps must not be negative (got {WarmupSteps}).");
        if (FullImageFraction is < 0 or > 1 || double.IsNaN(FullImageFraction)) throw new ArgumentException($"FullImageFraction must be between 0 and 1 (got {FullImageFraction}).");
        if (CropSize is < 0 or > 64 || CropSize % 4 != 0) throw new ArgumentException($"CropSize must be 0 or a multiple of 4 up to 64 (got {CropSize}).");
        if (RestartEvery < 0) throw new ArgumentException($"restart interval must not be negative (got {RestartEvery}).");
        if (DecoderOnly && RestartEvery != 0) throw new ArgumentException($"A decoder-only run keeps its codebook: RestartEvery must be 0 (got {RestartEvery}).");
        if (Model.Kind != VqganKind.VQModel) throw new ArgumentException("The trainer builds taming VQModels only.");
        Model.Validate();
    }

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps,
        ["batch_size"] = BatchSize,
        ["learning_rate"] = LearningRate,
        ["warmup_steps"] = WarmupSteps,
        ["seed"] = Seed,
        ["l1_weight"] = L1Weight,
        ["l2_weight"] = L2Weight,
        ["restart_every"] = RestartEvery,
        ["restart_until"] = RestartUntil,
        ["kmeans_iterations"] = KMeansIterations,
        ["grad_clip"] = GradClip,
        ["crop_size"] = CropSize,
        ["full_image_fraction"] = FullImageFraction,
        ["decoder_only"] = DecoderOnly,
        ["model_yaml"] = Model.ToYaml(),
        // Not part of taming's YAML (VQModel always builds the legacy quantizer); only the training loss differs.
        ["legacy_vq_loss"] = Model.LegacyLoss,
    };

    public static VqganTrainingOptions FromJson(JsonObject json)
    {
        T Get<T>(string key) => (json[key] ?? throw new InvalidDataException($"VQGAN training options: '{key}' is missing.")).GetValue<T>();
        return new VqganTrainingOptions
        {
            Steps = Get<long>("steps"),
            BatchSize = Get<int>("batch_size"),
            LearningRate = Get<double>("learning_rate"),
            WarmupSteps = Get<long>("warmup_steps"),
            Seed = Get<int>("seed"),
            L1Weight = Get<double>("l1_weight"),
            L2Weight = Get<double>("l2_weight"),
            RestartEvery = Get<int>("restart_every"),
            RestartUntil = Get<double>("restart_until"),
            KMeansIterations = Get<int>("kmeans_iterations"),
            GradClip = Get<double>("grad_clip"),
            CropSize = Get<int>("crop_size"),
            FullImageFraction = Get<double>("full_image_fraction"),
            // Checkpoints written before the option trained everything.
            DecoderOnly = json["decoder_only"]?.GetValue<bool>() ?? false,
            Model = VqganConfig.FromYaml(Get<string>("model_yaml")) with
            {
                Source = "training checkpoint",
                LegacyLoss = json["legacy_vq_loss"]?.GetValue<bool>() ?? true,
            },
        };
    }
}
