using System.Text.Json.Nodes;
using VqganClip.Models.BigGan;

namespace VqganClip.Training.BigGan;

/// <summary>
/// Settings of a clipart BigGAN run (saved in its checkpoints; a resumed run keeps them). Defaults follow
/// BigGAN-PyTorch's BigGAN-deep launch script where a short CPU run allows (Adam betas (0, 0.999), eps 1e-6, hinge
/// loss, orthogonal init, EMA of G); learning rates, EMA decay and widths are scaled for a run of a few thousand steps.
/// </summary>
public sealed record BigGanTrainingOptions
{
    public long Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam learning rates (BigGAN-deep: G 1e-4, D 4e-4 at batch 2048).</summary>
    public double GLearningRate { get; init; } = 2e-4;
    public double DLearningRate { get; init; } = 4e-4;
    public double Beta1 { get; init; } = 0.0;
    public double Beta2 { get; init; } = 0.999;
    public double AdamEps { get; init; } = 1e-6;

    /// <summary>D steps per G step (BigGAN-deep: 1; each D step sees a fresh real batch).</summary>
    public int DSteps { get; init; } = 1;

    /// <summary>EMA decay of G_ema (BigGAN: 0.9999 from iteration 20000; before <see cref="EmaStart"/> G_ema copies G).</summary>
    public double EmaDecay { get; init; } = 0.999;
    public long EmaStart { get; init; } = 200;

    /// <summary>Seeds the weights, the training scenes and the noise.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>G: channel_width, z_dim (= class_embed_dim), GenBlocks per resolution (BigGAN-deep: 2), attention before the last stage.</summary>
    public int GChannels { get; init; } = 32;
    public int ZDim { get; init; } = 32;
    public int GDepth { get; init; } = 1;
    public bool GAttention { get; init; } = true;

    /// <summary>
    /// The side of G's pictures and of D's input: 64 (the world's scenes as drawn) or 32 (the world's scenes
    /// area-averaged to 32 px for D and the ties; G has one up-sampling stage fewer, and the judge reads its pictures
    /// upsampled to 64, as it reads any picture). See <see cref="GeneratorConfig"/> for the 32-px G's widths.
    /// </summary>
    public int Resolution { get; init; } = 64;

    /// <summary>D: ch and DBlocks per resolution (BigGAN-deep: 2).</summary>
    public int DChannels { get; init; } = 16;
    public int DDepth { get; init; } = 1;

    /// <summary>
    /// D's architecture: <see cref="BigGanDiscriminatorKind"/> "biggan" (BigGAN-deep's spectral-norm projection D, ch
    /// <see cref="DChannels"/>) or "stylegan2" (<see cref="ProjectionStyleGan2Discriminator"/>, widths 4·ch, 4·ch, 4·ch,
    /// 2·ch, ch at 4..64 px).
    /// </summary>
    public string Discriminator { get; init; } = BigGanDiscriminatorKind.BigGan;

    /// <summary>The GAN loss: "hinge" (BigGAN's loss_hinge_dis/gen) or "logistic" (StyleGAN2's d_logistic_loss and non-saturating G loss).</summary>
    public string Loss { get; init; } = BigGanLoss.Hinge;

    /// <summary>R1 penalty γ on real images (0: none; StyleGAN2's lazy form, every <see cref="DRegEvery"/> steps, scaled by it).</summary>
    public double R1Gamma { get; init; }
    public int DRegEvery { get; init; } = 16;

    /// <summary>
    /// Class embeddings tied across the (kind, colour) factorisation: G's <c>embeddings</c> is kept, after its
    /// initialisation and every G step, on the additive matrices W[:, (k, c)] = a_k + b_c (the exported file keeps
    /// upstream's format, a Linear over the 120 classes), and the stylegan2 D's class embedding is a kind table plus a
    /// colour table. Each kind and colour is then learnt from every class that shares it (10 and 12 times the samples
    /// of one class) instead of from its own class alone.
    /// </summary>
    public bool FactorisedClasses { get; init; }

    /// <summary>
    /// Weight of an auxiliary kind classifier (AC-GAN, Odena et al. 2017; 0: none): a
    /// <see cref="SilhouetteKindClassifier"/> learns the 12-way kind of real scenes from the silhouette in the class's
    /// colour, and G's loss adds this weight times the cross-entropy of its samples against the kind it was asked for.
    /// A direct signal for the shape, which D's projection term alone did not teach G
    /// (docs/research/clipart-biggan-log.md, session 21).
    /// </summary>
    public double KindClassifierWeight { get; init; }

    /// <summary>
    /// The step from which G's loss has the kind term (a GAN that already draws scenes in the class's colours gives the
    /// classifier something to read; from step 0 the term pulled G off the data and D won, session 21's pilots).
    /// </summary>
    public long KindStart { get; init; }

    /// <summary>
    /// The classifier learns real scenes from step <see cref="KindStart"/> − this, alongside the GAN, so that it knows
    /// the kinds when G's term starts (it needs about 100 steps). Before that step it has no effect on the run.
    /// </summary>
    public long KindPretrainSteps { get; init; }

    /// <summary>
    /// Weight of the mode-seeking term (MSGAN, Mao et al. 2019, "Mode Seeking Generative Adversarial Networks"; 0:
    /// none). G's batch is drawn as pairs of the same class with different noise, and G's loss adds this weight times
    /// 1 / (d_I / d_z + 1e-5), d_I the mean absolute difference of each pair's pictures and d_z of their noise
    /// (HelenMao/MSGAN's <c>loss_lz</c>). Against within-class mode collapse: without it the clipart G drew every class
    /// on three of the five backgrounds and mostly right of centre (docs/research/clipart-biggan-log.md, session 22).
    /// </summary>
    public double ModeSeekingWeight { get; init; }

    /// <summary>
    /// Weight of the scene tie (0: none): G's loss adds this weight times mean |G(z, y) − render(scene(z), y)|, the
    /// world's rendering of the one-object scene the noise names (<see cref="NoiseScenes"/>: background, place, size
    /// and jitter read from z[0..15]). It ties every z to one of the world's scenes, against G's collapse onto a few
    /// backgrounds and one side of the picture (docs/research/clipart-biggan-log.md, session 27). Needs z_dim ≥ 16.
    /// </summary>
    public double SceneTieWeight { get; init; }

    /// <summary>
    /// Weight of the redraw tie (0: none): from <see cref="RedrawTieStart"/>, G's loss adds this weight times the mean
    /// L1 between G's sample and the world's drawing of the class's kind where the sample's class-colour region is
    /// (<see cref="RedrawnScenes"/>), over that region and the drawn silhouette. It teaches G the kind's outline where
    /// G put the object; it does not hold the object at the place its noise names, and over 1,000-3,500 steps the
    /// objects drifted to the places G draws best (docs/research/clipart-biggan-log.md, session 29).
    /// </summary>
    public double RedrawTieWeight { get; init; }
    public long RedrawTieStart { get; init; }

    /// <summary>
    /// Weight of the place tie (0: none): from <see cref="PlaceTieStart"/>, G's loss adds this weight times the mean
    /// distance, in fractions of the picture, between the soft centroid of the class's colour in G's sample and in the
    /// world's drawing of the scene the noise names (<see cref="PlaceTie"/>). It holds each object at the place its
    /// noise names, which the redraw tie alone lets drift (docs/research/clipart-biggan-log.md, sessions 29-30).
    /// </summary>
    public double PlaceTieWeight { get; init; }
    public long PlaceTieStart { get; init; }

    /// <summary>
    /// A CLIP checkpoint (a full path) whose frozen image tower backs a second discriminator,
    /// <see cref="ClipFeatureDiscriminator"/> (vision-aided GAN; null: none). Its head trains from
    /// <see cref="ClipDiscriminatorStart"/> with its own Adam (<see cref="ClipDiscriminatorLearningRate"/>, β (0, 0.99)) on
    /// the logistic loss, and G's loss adds <see cref="ClipDiscriminatorWeight"/> times its non-saturating term.
    /// </summary>
    public string? ClipDiscriminatorPath { get; init; }
    public double ClipDiscriminatorWeight { get; init; } = 0.5;
    public long ClipDiscriminatorStart { get; init; }
    public double ClipDiscriminatorLearningRate { get; init; } = 1e-3;

    /// <summary>The first step at which the kind classifier trains (a run without one: never).</summary>
    public long KindClassifierFirstStep => KindClassifierWeight > 0 ? KindStart - KindPretrainSteps : long.MaxValue;

    /// <summary>Standing statistics: batches of this size per truncation value, for each of the 51.</summary>
    public int StandingBatches { get; init; } = 2;
    public int StandingBatchSize { get; init; } = 64;

    /// <summary>Truncation of the class-accuracy samples (noise truncated normal · t, standing statistics of t).</summary>
    public double EvalTruncation { get; init; } = 0.5;

    /// <summary>The stylegan2 discriminator's widths at 4, 8, 16, 32 (and 64) px.</summary>
    public int[] StyleGan2DChannels() => [.. new[] { 4 * DChannels, 4 * DChannels, 4 * DChannels, 2 * DChannels, DChannels }.Take(Stages + 1)];

    /// <summary>Up-sampling stages of G from 4x4 (and down-sampling stages of D): log2(Resolution / 4).</summary>
    public int Stages => (int)Math.Round(Math.Log2(Resolution / 4.0));

    public BigGanConfig GeneratorConfig()
    {
        var layers = new List<BigGanLayer>();
        // channel multipliers at 4, 8, 16, 32, 64 px. gen_z makes 16·channel_width channels and generator.bn takes
        // channel_width, and a GenBlock that changes its channels halves them: a 32-px G halves once at 4x4 without
        // up-sampling (a cheap block) and then has the 64-px config's last three stages.
        int[] mul = [16, 8, 4, 2, 1];
        int first = 4 - Stages;
        for (int stage = 0; stage < first; stage++) layers.Add(new BigGanLayer(false, mul[stage], mul[stage + 1]));
        for (int stage = first; stage < 4; stage++)
        {
            for (int d = 0; d < GDepth - 1; d++) layers.Add(new BigGanLayer(false, mul[stage], mul[stage]));
            layers.Add(new BigGanLayer(true, mul[stage], mul[stage + 1]));
        }
        // attention before the first GenBlock of the last stage (its input is 32x32 at 64 px, 16x16 at 32 px).
        int attention = GAttention ? layers.Count - GDepth : layers.Count;
        return new BigGanConfig
        {
            OutputDim = Resolution, ZDim = ZDim, ClassEmbedDim = ZDim, ChannelWidth = GChannels, NumClasses = ClipartClasses.Count,
            Layers = layers, AttentionLayerPosition = attention, Eps = 1e-4, NStats = 51, Source = "clipart BigGAN trainer",
        };
    }

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Steps must be positive (got {Steps}).");
        if (BatchSize < 2) throw new ArgumentException($"BatchSize must be at least 2 (batch statistics) (got {BatchSize}).");
        if (!(GLearningRate > 0) || !(DLearningRate > 0)) throw new ArgumentException($"Learning rates must be positive (got G {GLearningRate}, D {DLearningRate}).");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new ArgumentException($"Adam betas must be in [0, 1) (got {Beta1}, {Beta2}).");
        if (DSteps <= 0) throw new ArgumentException($"DSteps must be positive (got {DSteps}).");
        if (EmaDecay is < 0 or >= 1 || double.IsNaN(EmaDecay)) throw new ArgumentException($"EmaDecay must be in [0, 1) (got {EmaDecay}).");
        if (Resolution is not (32 or 64)) throw new ArgumentException($"Resolution must be 32 or 64 (got {Resolution}).");
        if (Resolution != 64 && Discriminator != BigGanDiscriminatorKind.StyleGan2) throw new ArgumentException($"Resolution {Resolution} needs the stylegan2 discriminator (BigGAN-deep's D is built for 64 px).");
        if (GDepth <= 0 || DDepth <= 0) throw new ArgumentException($"G and D depths must be positive (got {GDepth}, {DDepth}).");
        if (DChannels <= 0 || DChannels % 4 != 0) throw new ArgumentException($"DChannels must be a positive multiple of 4 (got {DChannels}).");
        if (!BigGanDiscriminatorKind.All.Contains(Discriminator)) throw new ArgumentException($"Discriminator must be one of {string.Join(", ", BigGanDiscriminatorKind.All)} (got '{Discriminator}').");
        if (!BigGanLoss.All.Contains(Loss)) throw new ArgumentException($"Loss must be one of {string.Join(", ", BigGanLoss.All)} (got '{Loss}').");
        if (!(R1Gamma >= 0)) throw new ArgumentException($"R1Gamma must be 0 or positive (got {R1Gamma}).");
        if (FactorisedClasses && Discriminator != BigGanDiscriminatorKind.StyleGan2) throw new ArgumentException("FactorisedClasses needs the stylegan2 discriminator (its class embedding is the one that can be factorised).");
        if (!(KindClassifierWeight >= 0) || double.IsInfinity(KindClassifierWeight)) throw new ArgumentException($"KindClassifierWeight must be 0 or a positive number (got {KindClassifierWeight}).");
        if (KindStart < 0 || KindPretrainSteps < 0 || KindPretrainSteps > KindStart) throw new ArgumentException($"KindStart ({KindStart}) and KindPretrainSteps ({KindPretrainSteps}) must be 0 or positive, the pretraining no longer than the steps before the start.");
        if (!(ModeSeekingWeight >= 0) || double.IsInfinity(ModeSeekingWeight)) throw new ArgumentException($"ModeSeekingWeight must be 0 or a positive number (got {ModeSeekingWeight}).");
        if (ModeSeekingWeight > 0 && BatchSize % 2 != 0) throw new ArgumentException($"The mode-seeking term draws G's batch as pairs: BatchSize must be even (got {BatchSize}).");
        if ((KindStart > 0 || KindPretrainSteps > 0) && !(KindClassifierWeight > 0)) throw new ArgumentException($"KindStart ({KindStart}) and KindPretrainSteps ({KindPretrainSteps}) need a kind classifier (KindClassifierWeight > 0).");
        if (KindClassifierWeight > 0 && KindStart >= Steps) throw new ArgumentException($"KindStart ({KindStart}) must come before the run's end ({Steps} steps).");
        if (!(SceneTieWeight >= 0) || double.IsInfinity(SceneTieWeight)) throw new ArgumentException($"SceneTieWeight must be 0 or a positive number (got {SceneTieWeight}).");
        if (!(RedrawTieWeight >= 0) || double.IsInfinity(RedrawTieWeight)) throw new ArgumentException($"RedrawTieWeight must be 0 or a positive number (got {RedrawTieWeight}).");
        if (RedrawTieWeight > 0 && (RedrawTieStart < 0 || RedrawTieStart >= Steps)) throw new ArgumentException($"RedrawTieStart must be a step of the run, 0 to {Steps - 1} (got {RedrawTieStart}).");
        if (!(PlaceTieWeight >= 0) || double.IsInfinity(PlaceTieWeight)) throw new ArgumentException($"PlaceTieWeight must be 0 or a positive number (got {PlaceTieWeight}).");
        if (PlaceTieWeight > 0 && (PlaceTieStart < 0 || PlaceTieStart >= Steps)) throw new ArgumentException($"PlaceTieStart must be a step of the run, 0 to {Steps - 1} (got {PlaceTieStart}).");
        // the scene, place and redraw ties all read the scene the noise names (the redraw tie as its fallback)
        var tie = SceneTieWeight > 0 ? "scene" : PlaceTieWeight > 0 ? "place" : RedrawTieWeight > 0 ? "redraw" : null;
        if (tie is not null && ZDim < NoiseScenes.Dimensions) throw new ArgumentException($"The {tie} tie reads a scene from the first {NoiseScenes.Dimensions} entries of the noise: ZDim must be at least {NoiseScenes.Dimensions} (got {ZDim}).");
        if (ClipDiscriminatorPath is not null)
        {
            if (ClipDiscriminatorPath.Length == 0) throw new ArgumentException("ClipDiscriminatorPath is empty (null: no CLIP discriminator).");
            if (!(ClipDiscriminatorWeight > 0) || double.IsInfinity(ClipDiscriminatorWeight)) throw new ArgumentException($"ClipDiscriminatorWeight must be a positive number (got {ClipDiscriminatorWeight}).");
            if (ClipDiscriminatorStart < 0 || ClipDiscriminatorStart >= Steps) throw new ArgumentException($"ClipDiscriminatorStart must be a step of the run, 0 to {Steps - 1} (got {ClipDiscriminatorStart}).");
            if (!(ClipDiscriminatorLearningRate > 0) || double.IsInfinity(ClipDiscriminatorLearningRate)) throw new ArgumentException($"ClipDiscriminatorLearningRate must be positive (got {ClipDiscriminatorLearningRate}).");
        }
        if (DRegEvery <= 0) throw new ArgumentException($"DRegEvery must be positive (got {DRegEvery}).");
        if (Discriminator == BigGanDiscriminatorKind.StyleGan2 && BatchSize % 4 != 0) throw new ArgumentException($"The stylegan2 discriminator's minibatch standard deviation needs a batch divisible by 4 (got {BatchSize}).");
        if (StandingBatches <= 0 || StandingBatchSize < 2) throw new ArgumentException($"Standing statistics need at least one batch of 2 (got {StandingBatches} of {StandingBatchSize}).");
        if (!(EvalTruncation > 0 && EvalTruncation <= 1)) throw new ArgumentException($"EvalTruncation must be in (0, 1] (got {EvalTruncation}).");
        GeneratorConfig().Validate();
    }

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps,
        ["batch_size"] = BatchSize,
        ["g_lr"] = GLearningRate,
        ["d_lr"] = DLearningRate,
        ["beta1"] = Beta1,
        ["beta2"] = Beta2,
        ["adam_eps"] = AdamEps,
        ["d_steps"] = DSteps,
        ["ema_decay"] = EmaDecay,
        ["ema_start"] = EmaStart,
        ["seed"] = Seed,
        ["g_channels"] = GChannels,
        ["resolution"] = Resolution,
        ["z_dim"] = ZDim,
        ["g_depth"] = GDepth,
        ["g_attention"] = GAttention,
        ["d_channels"] = DChannels,
        ["d_depth"] = DDepth,
        ["discriminator"] = Discriminator,
        ["loss"] = Loss,
        ["r1_gamma"] = R1Gamma,
        ["d_reg_every"] = DRegEvery,
        ["factorised_classes"] = FactorisedClasses,
        ["kind_classifier_weight"] = KindClassifierWeight,
        ["kind_start"] = KindStart,
        ["kind_pretrain_steps"] = KindPretrainSteps,
        ["mode_seeking_weight"] = ModeSeekingWeight,
        ["scene_tie_weight"] = SceneTieWeight,
        ["redraw_tie_weight"] = RedrawTieWeight,
        ["redraw_tie_start"] = RedrawTieStart,
        ["place_tie_weight"] = PlaceTieWeight,
        ["place_tie_start"] = PlaceTieStart,
        ["clip_discriminator"] = ClipDiscriminatorPath,
        ["clip_discriminator_weight"] = ClipDiscriminatorWeight,
        ["clip_discriminator_start"] = ClipDiscriminatorStart,
        ["clip_discriminator_lr"] = ClipDiscriminatorLearningRate,
        ["standing_batches"] = StandingBatches,
        ["standing_batch_size"] = StandingBatchSize,
        ["eval_truncation"] = EvalTruncation,
    };

    public static BigGanTrainingOptions FromJson(JsonObject json)
    {
        T Get<T>(string key) => (json[key] ?? throw new InvalidDataException($"BigGAN training options: '{key}' is missing.")).GetValue<T>();
        // Keys added after the first checkpoints were written: a missing one means the setting those runs had.
        T GetOr<T>(string key, T fallback) => json[key] is { } node ? node.GetValue<T>() : fallback;
        var defaults = new BigGanTrainingOptions();
        return new BigGanTrainingOptions
        {
            Resolution = GetOr("resolution", defaults.Resolution),
            Discriminator = GetOr("discriminator", defaults.Discriminator),
            Loss = GetOr("loss", defaults.Loss),
            R1Gamma = GetOr("r1_gamma", defaults.R1Gamma),
            DRegEvery = GetOr("d_reg_every", defaults.DRegEvery),
            FactorisedClasses = GetOr("factorised_classes", defaults.FactorisedClasses),
            KindClassifierWeight = GetOr("kind_classifier_weight", defaults.KindClassifierWeight),
            KindStart = GetOr("kind_start", defaults.KindStart),
            KindPretrainSteps = GetOr("kind_pretrain_steps", defaults.KindPretrainSteps),
            ModeSeekingWeight = GetOr("mode_seeking_weight", defaults.ModeSeekingWeight),
            SceneTieWeight = GetOr("scene_tie_weight", defaults.SceneTieWeight),
            RedrawTieWeight = GetOr("redraw_tie_weight", defaults.RedrawTieWeight),
            RedrawTieStart = GetOr("redraw_tie_start", defaults.RedrawTieStart),
            PlaceTieWeight = GetOr("place_tie_weight", defaults.PlaceTieWeight),
            PlaceTieStart = GetOr("place_tie_start", defaults.PlaceTieStart),
            ClipDiscriminatorPath = GetOr("clip_discriminator", defaults.ClipDiscriminatorPath),
            ClipDiscriminatorWeight = GetOr("clip_discriminator_weight", defaults.ClipDiscriminatorWeight),
            ClipDiscriminatorStart = GetOr("clip_discriminator_start", defaults.ClipDiscriminatorStart),
            ClipDiscriminatorLearningRate = GetOr("clip_discriminator_lr", defaults.ClipDiscriminatorLearningRate),
            Steps = Get<long>("steps"),
            BatchSize = Get<int>("batch_size"),
            GLearningRate = Get<double>("g_lr"),
            DLearningRate = Get<double>("d_lr"),
            Beta1 = Get<double>("beta1"),
            Beta2 = Get<double>("beta2"),
            AdamEps = Get<double>("adam_eps"),
            DSteps = Get<int>("d_steps"),
            EmaDecay = Get<double>("ema_decay"),
            EmaStart = Get<long>("ema_start"),
            Seed = Get<int>("seed"),
            GChannels = Get<int>("g_channels"),
            ZDim = Get<int>("z_dim"),
            GDepth = Get<int>("g_depth"),
            GAttention = Get<bool>("g_attention"),
            DChannels = Get<int>("d_channels"),
            DDepth = Get<int>("d_depth"),
            StandingBatches = Get<int>("standing_batches"),
            StandingBatchSize = Get<int>("standing_batch_size"),
            EvalTruncation = Get<double>("eval_truncation"),
        };
    }
}

/// <summary>The names <see cref="BigGanTrainingOptions.Discriminator"/> takes.</summary>
public static class BigGanDiscriminatorKind
{
    public const string BigGan = "biggan";
    public const string StyleGan2 = "stylegan2";
    public static readonly IReadOnlyList<string> All = [BigGan, StyleGan2];
}

/// <summary>The names <see cref="BigGanTrainingOptions.Loss"/> takes.</summary>
public static class BigGanLoss
{
    public const string Hinge = "hinge";
    public const string Logistic = "logistic";
    public static readonly IReadOnlyList<string> All = [Hinge, Logistic];
}
