using System.Text.Json.Nodes;
using VqganClip.Clipart;

namespace VqganClip.Training;

/// <summary>
/// Settings of a clipart transformer training run (VQGAN's second stage: taming's GPT over the first stage's codes,
/// conditioned on the caption; saved in its checkpoints, a resumed run keeps them).
/// </summary>
public sealed record TransformerTrainingOptions
{
    public long Steps { get; init; } = 1800;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public long WarmupSteps { get; init; } = 100;

    /// <summary>AdamW's decoupled weight decay, on the Linear weights only (minGPT's rule: never on biases,
    /// LayerNorm weights or the embeddings).</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Global gradient-norm clip (0 = none); minGPT trains with 1.0.</summary>
    public double GradClip { get; init; } = 1.0;

    /// <summary>Seeds the weights and the training scenes (see <see cref="ClipartBatches.StepSeed"/>).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The frozen first stage: a taming VQGAN file (safetensors + YAML beside it, or a Lightning checkpoint).</summary>
    public string FirstStage { get; init; } = "";

    /// <summary>GPT depth, heads and width (taming's n_layer, n_head, n_embd).</summary>
    public int Layers { get; init; } = 6;
    public int Heads { get; init; } = 5;
    public int Width { get; init; } = 160;

    /// <summary>Caption tokens in the prefix (captions are padded to it; the clipart world's longest is about 20).</summary>
    public int CaptionLength { get; init; } = 24;

    /// <summary>Fraction of training scenes whose caption is replaced by an empty one (all padding), so the same model
    /// also samples unconditionally (an empty prompt) and can be compared against its captioned samples.</summary>
    public double CaptionDropout { get; init; } = 0.1;

    /// <summary>Dropout of embeddings, residuals and attention (taming's embd/resid/attn_pdrop); every step draws
    /// new scenes, so the default is none.</summary>
    public double Dropout { get; init; } = 0.0;

    /// <summary>Share of each step's scenes drawn as one-object scenes whose object is big (the rest come from the
    /// world's sampler, pairs included; see <see cref="ClipartBatches.ScenesWithOneObjectBigShare"/>). A big object is
    /// drawn over about twice the codes of the world's average object, so the GPT sees each kind's outline in more
    /// tokens a step; with share 1 stage 1 gets the asked kind twice as often (docs/research/clipart-transformer-log.md,
    /// "Session 33"). 0 is the world's own stream.</summary>
    public double OneObjectBigShare { get; init; } = 0.0;

    /// <summary>Where the one-object scenes of <see cref="OneObjectBigShare"/> put their object: null (the world's
    /// places) or <see cref="ScenePosition.Middle"/>. A GPT that only ever draws the object in the middle spends its
    /// steps on the kinds' shapes instead of on five copies of each (held-out asked kind 0.31 against 0.14 at stage 1;
    /// docs/research/clipart-transformer-log.md, "Session 36"); its YAML says <c>drawn_at: middle</c>, and the generate
    /// pipeline asks it for the middle and moves the picture to the caption's place.</summary>
    public ScenePosition? OneObjectPlace { get; init; }

    /// <summary>The one-object scenes of <see cref="OneObjectBigShare"/> drawn without the sampler's jitter: the object
    /// at its place's canonical spot and size, upright. The f4 VQGAN gives a shape another pattern of codes for every
    /// sub-token shift, size and turn, so a jittered (kind, colour, backdrop) is a continuum of code patterns; canonical,
    /// each is one, and the GPT sees each many times over within the budget
    /// (docs/research/clipart-transformer-log.md, "Session 38").</summary>
    public bool OneObjectCanonical { get; init; }

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Steps must be positive (got {Steps}).");
        if (BatchSize <= 0) throw new ArgumentException($"BatchSize must be positive (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"LearningRate must be positive (got {LearningRate}).");
        if (WarmupSteps < 0) throw new ArgumentException($"warm-up steps must not be negative (got {WarmupSteps}).");
        if (WeightDecay < 0) throw new ArgumentException($"WeightDecay must not be negative (got {WeightDecay}).");
        if (string.IsNullOrWhiteSpace(FirstStage)) throw new ArgumentException("The first stage (a trained VQGAN file) is missing.");
        if (Layers <= 0 || Heads <= 0 || Width <= 0) throw new ArgumentException($"Layers, heads and width must be positive (got {Layers}, {Heads}, {Width}).");
        if (Width % Heads != 0) throw new ArgumentException($"The width ({Width}) must be a multiple of the heads ({Heads}).");
        if (CaptionLength <= 0) throw new ArgumentException($"CaptionLength must be positive (got {CaptionLength}).");
        if (CaptionDropout is < 0 or >= 1 || double.IsNaN(CaptionDropout)) throw new ArgumentException($"CaptionDropout must be in [0, 1) (got {CaptionDropout}).");
        if (Dropout is < 0 or >= 1 || double.IsNaN(Dropout)) throw new ArgumentException($"Dropout must be in [0, 1) (got {Dropout}).");
        if (OneObjectBigShare is < 0 or > 1 || double.IsNaN(OneObjectBigShare)) throw new ArgumentException($"The one-object big share (--one-object-big-share) must be in [0, 1] (got {OneObjectBigShare}).");
        if (OneObjectPlace is { } place && place != ScenePosition.Middle)
            throw new ArgumentException($"The one-object place (--one-object-place) must be 'any' or 'middle' (got {place.ToString().ToLowerInvariant()}): only a middle-drawn GPT can be moved to every place.");
        if (OneObjectPlace is not null && OneObjectBigShare != 1)
            throw new ArgumentException($"The one-object place (--one-object-place) needs --one-object-big-share 1 (got {OneObjectBigShare}): the world's own scenes put objects everywhere, so the GPT would not learn to draw only in the middle.");
        if (OneObjectCanonical && OneObjectBigShare == 0)
            throw new ArgumentException("Canonical one-object scenes (--one-object-canonical) need a one-object big share above 0 (--one-object-big-share): they are the scenes it draws without jitter.");
    }

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps,
        ["batch_size"] = BatchSize,
        ["learning_rate"] = LearningRate,
        ["warmup_steps"] = WarmupSteps,
        ["weight_decay"] = WeightDecay,
        ["grad_clip"] = GradClip,
        ["seed"] = Seed,
        ["first_stage"] = FirstStage,
        ["layers"] = Layers,
        ["heads"] = Heads,
        ["width"] = Width,
        ["caption_length"] = CaptionLength,
        ["dropout"] = Dropout,
        ["caption_dropout"] = CaptionDropout,
        ["one_object_big_share"] = OneObjectBigShare,
        ["one_object_place"] = OneObjectPlace is { } place ? place.ToString().ToLowerInvariant() : null,
        ["one_object_canonical"] = OneObjectCanonical,
    };

    public static TransformerTrainingOptions FromJson(JsonObject json)
    {
        T Get<T>(string key) => (json[key] ?? throw new InvalidDataException($"Transformer training options: '{key}' is missing.")).GetValue<T>();
        return new TransformerTrainingOptions
        {
            Steps = Get<long>("steps"),
            BatchSize = Get<int>("batch_size"),
            LearningRate = Get<double>("learning_rate"),
            WarmupSteps = Get<long>("warmup_steps"),
            WeightDecay = Get<double>("weight_decay"),
            GradClip = Get<double>("grad_clip"),
            Seed = Get<int>("seed"),
            FirstStage = Get<string>("first_stage"),
            Layers = Get<int>("layers"),
            Heads = Get<int>("heads"),
            Width = Get<int>("width"),
            CaptionLength = Get<int>("caption_length"),
            Dropout = Get<double>("dropout"),
            CaptionDropout = Get<double>("caption_dropout"),
            // absent from the run folders written before the option: those drew the world's scenes only
            OneObjectBigShare = json["one_object_big_share"]?.GetValue<double>() ?? 0.0,
            // absent (or null) before the option: the world's places
            OneObjectPlace = json["one_object_place"]?.GetValue<string>() is { } place ? ParsePlace(place) : null,
            // absent before the option: jittered
            OneObjectCanonical = json["one_object_canonical"]?.GetValue<bool>() ?? false,
        };
    }

    /// <summary>"any" (null) or "middle", as <c>--one-object-place</c> and state.json spell it.</summary>
    public static ScenePosition? ParsePlace(string text) => text.Trim().ToLowerInvariant() switch
    {
        "any" => null,
        "middle" => ScenePosition.Middle,
        _ => throw new ArgumentException($"The one-object place (--one-object-place) must be 'any' or 'middle' (got '{text}')."),
    };
}
