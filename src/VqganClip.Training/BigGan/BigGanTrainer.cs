using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Clipart;
using VqganClip.Clipart.Judge;
using VqganClip.Models.BigGan;
using VqganClip.Models.Clip;
using VqganClip.Models.Runtime;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.BigGan;

/// <summary>
/// Trains a small class-conditional BigGAN-deep (the toolkit's own <see cref="BigGanModel"/>, a small
/// <see cref="BigGanConfig"/>) on one-object clipart scenes, one class per (kind, colour) (<see cref="ClipartClasses"/>),
/// as BigGAN-PyTorch does (train_fns.GAN_training_function): <see cref="BigGanTrainingOptions.DSteps"/> D steps on
/// cat(G(z, y), x) with the hinge loss (losses.loss_hinge_dis), then one G step (loss_hinge_gen) with D's weights
/// frozen, Adam (β1 0, β2 0.999), orthogonal initialisation, and an EMA copy of G (utils.ema) that is what gets
/// exported. The shipped recipe swaps in StyleGAN2's side of the game (<see cref="BigGanTrainingOptions.Discriminator"/>
/// "stylegan2", <see cref="BigGanTrainingOptions.Loss"/> "logistic", lazy R1) and ties the class embeddings across
/// (kind, colour) (<see cref="BigGanTrainingOptions.FactorisedClasses"/>): BigGAN-deep's own D did not let G learn a
/// class within the time budget (docs/research/clipart-biggan-log.md). <see cref="BigGanTrainingOptions.KindClassifierWeight"/>
/// adds an AC-GAN classifier of the object's kind (<see cref="SilhouetteKindClassifier"/>, trained alongside, late in
/// the run), <see cref="BigGanTrainingOptions.SceneTieWeight"/> ties each noise to one of the world's scenes
/// (<see cref="NoiseScenes"/>), and <see cref="BigGanTrainingOptions.ClipDiscriminatorPath"/> adds a vision-aided
/// discriminator on a frozen CLIP (<see cref="ClipFeatureDiscriminator"/>). Export: G_ema's standing statistics
/// accumulated for each of the 51 truncations (row i ↔ truncation
/// i/50: batches of truncated noise · i/50, G_ema in training mode, batch means and variances averaged), spectral
/// norms folded, <see cref="BigGanModel.Save"/> plus <c>.classes.txt</c>. Batches and noise are functions of
/// (seed, step), so a resumed run continues exactly.
/// </summary>
public sealed class BigGanTrainer : ITrainer
{
    public const string CheckpointKind = "biggan";

    private readonly BigGanModel _g;
    private readonly BigGanModel _gEma;
    private readonly nn.Module _dModule;
    private readonly IConditionalDiscriminator _d;
    private readonly GanModules _modules;
    private readonly Adam _gOptimizer;
    private readonly Adam _dOptimizer;
    private readonly Parameter[] _dParameters;
    private readonly (Tensor Source, Tensor Target)[] _emaPairs;
    private readonly int _renderThreads;
    private readonly SceneJudge? _judge;
    private readonly SilhouetteKindClassifier? _kindClassifier;
    private readonly Adam? _kindOptimizer;
    private (long Step, BigGanModel Model)? _prepared;
    private readonly ClipModel? _clip;
    private readonly ClipFeatureDiscriminator? _clipD;
    private readonly Parameter[] _clipDParameters = [];
    private readonly Adam? _clipDOptimizer;
    private readonly string? _clipSha256;

    /// <param name="judge">Grades samples in <see cref="Evaluate"/> (class accuracy); null leaves that figure NaN.</param>
    public BigGanTrainer(BigGanTrainingOptions options, int renderThreads = 0, SceneJudge? judge = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureInitialized();
        Options = options;
        _renderThreads = renderThreads;
        _judge = judge;
        Config = options.GeneratorConfig();

        using (var _ = TorchRuntime.Seed(options.Seed)) { }
        _g = new BigGanModel(Config);
        if (options.Discriminator == BigGanDiscriminatorKind.StyleGan2)
        {
            var d = new ProjectionStyleGan2Discriminator(options.StyleGan2DChannels(), Config.NumClasses,
                options.FactorisedClasses ? Vocabulary.Colors.Length : 0);
            (_dModule, _d) = (d, d);
        }
        else
        {
            var d = new BigGanDiscriminator(options.DChannels, options.DDepth, Config.NumClasses, eps: 1e-6);
            (_dModule, _d) = (d, d);
        }
        using (no_grad())
        {
            // BigGAN-PyTorch's init_weights with G_init = D_init = 'ortho': every conv, linear and embedding weight.
            // (The stylegan2 D keeps its own N(0, 1) equalised-learning-rate initialisation.)
            foreach (var (_, layer) in _g.SpectralNormLayers()) nn.init.orthogonal_(layer.WeightOrig);
            nn.init.orthogonal_(_g.Embeddings.weight!);
            if (_d is BigGanDiscriminator bigGanD)
                foreach (var layer in bigGanD.SpectralNormLayers()) nn.init.orthogonal_(layer.WeightOrig);
        }
        if (options.FactorisedClasses) FactoriseClassEmbedding(_g);
        _gEma = new BigGanModel(Config);
        if (options.KindClassifierWeight > 0)
        {
            // Its own seed: the classifier's initial weights do not depend on when it is built (a resumed run builds it too).
            using (var _ = TorchRuntime.Seed(options.Seed ^ 0x4B1D)) _kindClassifier = new SilhouetteKindClassifier();
            foreach (var p in _kindClassifier.parameters()) p.requires_grad = true;
            _kindClassifier.train();
            // An ordinary classifier's Adam (PyTorch's defaults), not the GAN's β1 = 0.
            _kindOptimizer = optim.Adam(_kindClassifier.parameters(), lr: 1e-3);
        }
        if (options.ClipDiscriminatorPath is { } clipPath)
        {
            if (!File.Exists(clipPath)) throw new FileNotFoundException($"The CLIP discriminator's checkpoint '{clipPath}' does not exist.", clipPath);
            _clipSha256 = Sha256Of(clipPath);
            // Its own seed, like the classifier's. The CLIP is built (its placeholder weights drawn, then loaded) under
            // the same seed before the head: the order of the lab code that trained the shipped file (sessions 27-28),
            // so that the recipe writes that file again.
            using (var _ = TorchRuntime.Seed(options.Seed ^ 0xC11D))
            {
                _clip = ClipModel.Load(clipPath).SetTrainable(false);
                _clipD = new ClipFeatureDiscriminator(_clip);
            }
            _clipDParameters = _clipD.parameters().ToArray();
            foreach (var p in _clipDParameters) p.requires_grad = true;
            _clipDOptimizer = optim.Adam(_clipDParameters, lr: options.ClipDiscriminatorLearningRate, beta1: 0.0, beta2: 0.99);
        }
        _modules = new GanModules(_g, _dModule, _gEma, _kindClassifier, _clipD);
        var gState = _g.state_dict();
        var emaState = _gEma.state_dict();
        _emaPairs = gState.Select(kv => (kv.Value, emaState[kv.Key])).ToArray();
        CopyEma(0.0);

        foreach (var p in _g.parameters()) p.requires_grad = true;
        _dParameters = _dModule.parameters().ToArray();
        foreach (var p in _dParameters) p.requires_grad = true;
        _g.train();
        _dModule.train();
        _gOptimizer = optim.Adam(_g.parameters(), lr: options.GLearningRate, beta1: options.Beta1, beta2: options.Beta2, eps: options.AdamEps);
        _dOptimizer = optim.Adam(_dParameters, lr: options.DLearningRate, beta1: options.Beta1, beta2: options.Beta2, eps: options.AdamEps);
    }

    /// <summary>
    /// Continues a run from a checkpoint folder; <paramref name="steps"/> extends or shortens its plan. <paramref name="kind"/>
    /// gives the run a kind-classifier schedule (weight, start, pretraining) it did not have, or changes one that has not
    /// begun: allowed while the classifier's first step is still ahead of the checkpoint, where the continued run is
    /// the one the new schedule would have given from step 0 (the classifier has no effect before its first step).
    /// </summary>
    public static BigGanTrainer Resume(string checkpointDirectory, long? steps = null, int renderThreads = 0, SceneJudge? judge = null,
        KindSchedule? kind = null)
    {
        var (step, json) = TrainingCheckpoint.ReadState(checkpointDirectory, CheckpointKind);
        var saved = BigGanTrainingOptions.FromJson(json);
        var options = saved;
        if (steps is not null) options = options with { Steps = steps.Value };
        // The schedule the checkpoint already has, given again (a recipe's options repeated on resuming), changes nothing.
        if (kind == KindSchedule.Of(saved)) kind = null;
        if (kind is not null)
        {
            if (saved.KindClassifierFirstStep < step)
                throw new ArgumentException($"The checkpoint at step {step} has trained its kind classifier since step {saved.KindClassifierFirstStep} ({KindSchedule.Of(saved)}); its schedule can no longer change (asked: {kind}).");
            options = kind.AppliedTo(options);
            options.Validate();
            if (options.KindClassifierFirstStep < step)
                throw new ArgumentException($"The kind classifier would start at step {options.KindClassifierFirstStep} (KindStart {kind.Start} − KindPretrainSteps {kind.PretrainSteps}), before the checkpoint's step {step}.");
        }
        bool classifierStarted = options.KindClassifierFirstStep < step;
        bool clipDStarted = options.ClipDiscriminatorPath is not null && options.ClipDiscriminatorStart < step;
        if (options.ClipDiscriminatorPath is { } clipPath && json[ClipSha256Key]?.GetValue<string>() is { } savedHash)
        {
            if (!File.Exists(clipPath))
                throw new FileNotFoundException($"The run in {checkpointDirectory} trains with the CLIP discriminator '{clipPath}', which does not exist any more; put the same file back to resume.", clipPath);
            if (Sha256Of(clipPath) != savedHash)
                throw new InvalidDataException($"The CLIP discriminator '{clipPath}' is not the file the run in {checkpointDirectory} started with (SHA-256 {savedHash}); a resumed run would not continue the same game.");
        }
        return TrainingCheckpoint.Restore(new BigGanTrainer(options, renderThreads, judge), t =>
        {
            // A classifier or CLIP head that has not trained yet is its initial self: taken from the constructor, not the checkpoint.
            TrainingCheckpoint.LoadModel(checkpointDirectory, t._modules, optional: name =>
                (!classifierStarted && name.StartsWith("K.", StringComparison.Ordinal)) || (!clipDStarted && name.StartsWith("C.", StringComparison.Ordinal)));
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._gOptimizer);
            TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._dOptimizer, "d");
            if (t._kindOptimizer is not null && classifierStarted) TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._kindOptimizer, "k");
            if (t._clipDOptimizer is not null && clipDStarted) TrainingCheckpoint.LoadOptimizer(checkpointDirectory, t._clipDOptimizer, "c");
            t.Step = step;
        });
    }

    /// <summary>The kind classifier's schedule (<see cref="BigGanTrainingOptions.KindClassifierWeight"/>, <see cref="BigGanTrainingOptions.KindStart"/>, <see cref="BigGanTrainingOptions.KindPretrainSteps"/>).</summary>
    public sealed record KindSchedule(double Weight, long Start, long PretrainSteps)
    {
        public static KindSchedule Of(BigGanTrainingOptions options) => new(options.KindClassifierWeight, options.KindStart, options.KindPretrainSteps);

        public BigGanTrainingOptions AppliedTo(BigGanTrainingOptions options) =>
            options with { KindClassifierWeight = Weight, KindStart = Start, KindPretrainSteps = PretrainSteps };

        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"weight {Weight}, start {Start}, pretraining {PretrainSteps}");
    }

    public BigGanTrainingOptions Options { get; }
    public BigGanConfig Config { get; }
    public BigGanModel Generator => _g;
    public BigGanModel GeneratorEma => _gEma;
    public IConditionalDiscriminator Discriminator => _d;

    /// <summary>G, D and G_ema as one module (state-dict prefixes G., D., G_ema.; K. the kind classifier, C. the CLIP discriminator's head): what a checkpoint stores.</summary>
    public nn.Module Modules => _modules;

    public string Kind => CheckpointKind;
    public long Step { get; private set; }
    public long TotalSteps => Options.Steps;
    public string PrimaryMetric => "class_accuracy";

    public IReadOnlyDictionary<string, double> TrainStep()
    {
        using var scope = NewDisposeScope();
        bool classifierLearns = _kindClassifier is not null && Step >= Options.KindClassifierFirstStep;
        bool kindTerm = _kindClassifier is not null && Step >= Options.KindStart;
        bool clipDOn = _clipD is not null && Step >= Options.ClipDiscriminatorStart;
        double clipDReal = double.NaN, clipDFake = double.NaN, gClipD = double.NaN, gSceneTie = double.NaN, gRedrawTie = double.NaN,
            gPlaceTie = double.NaN;
        int batch = Options.BatchSize;
        using var noise = new torch.Generator((ulong)ClipartBatches.StepSeed(Options.Seed ^ 0x6A3D, Step));
        double lossReal = 0, lossFake = 0, dReal = 0, dFake = 0, r1 = double.NaN, dKind = double.NaN, dKindAccuracy = double.NaN, gKind = double.NaN,
            gModeSeeking = double.NaN;

        for (int k = 0; k < Options.DSteps; k++)
        {
            using var inner = NewDisposeScope();
            var (specs, ids) = ClipartClasses.Scenes(Options.Seed, Step * Options.DSteps + k, batch);
            var real = RenderScenes(specs) * 2 - 1;
            var realY = tensor(ids.Select(i => (long)i).ToArray());
            var (z, fakeY) = Noise(batch, noise);
            Tensor fake;
            using (no_grad()) fake = _g.Forward(z, OneHot(fakeY), 1.0);
            Tensor outFake, outReal;
            if (_d.SeparateBatches)
            {
                outFake = _d.Forward(fake, fakeY);
                outReal = _d.Forward(real, realY);
            }
            else
            {
                var output = _d.Forward(cat([fake, real], 0), cat([fakeY, realY], 0));
                outFake = output.narrow(0, 0, batch);
                outReal = output.narrow(0, batch, batch);
            }
            // hinge: losses.loss_hinge_dis; logistic: StyleGAN2's d_logistic_loss.
            var real1 = Options.Loss == BigGanLoss.Hinge ? F.relu(1.0 - outReal).mean() : F.softplus(-outReal).mean();
            var fake1 = Options.Loss == BigGanLoss.Hinge ? F.relu(1.0 + outFake).mean() : F.softplus(outFake).mean();
            _dOptimizer.zero_grad();
            (real1 + fake1).backward();
            _dOptimizer.step();
            // AC-GAN's classifier side: the kinds from real scenes only; G's samples only ever as the 13th class.
            if (k == 0 && classifierLearns) (dKind, dKindAccuracy) = KindClassifierStep(real, realY, fake, realY);
            if (k == 0 && clipDOn) (clipDReal, clipDFake) = ClipDiscriminatorStep(real, realY, fake, fakeY);
            lossReal = real1.item<float>();
            lossFake = fake1.item<float>();
            dReal = outReal.mean().item<float>();
            dFake = outFake.mean().item<float>();

            if (k == 0 && Options.R1Gamma > 0 && Step % Options.DRegEvery == 0)
                r1 = R1Step(real, realY);
        }

        // G step, D frozen (BigGAN-PyTorch's toggle_grads).
        foreach (var p in _dParameters) p.requires_grad = false;
        if (_kindClassifier is not null) foreach (var p in _kindClassifier.parameters()) p.requires_grad = false;
        foreach (var p in _clipDParameters) p.requires_grad = false;
        double gLoss;
        try
        {
            var (z, y) = Noise(batch, noise);
            // MSGAN: the second half of the batch asks for the first half's classes, so each sample has a twin
            int half = batch / 2;
            if (Options.ModeSeekingWeight > 0) y = cat([y.narrow(0, 0, half), y.narrow(0, 0, half)], 0);
            var fake = _g.Forward(z, OneHot(y), 1.0);
            var output = _d.Forward(fake, y);
            // AC-GAN's G side: its samples should be classified as the kind they were asked for.
            var kindLoss = kindTerm ? F.cross_entropy(_kindClassifier!.Forward(fake, y), ClipartClasses.KindIndices(y)) : null;
            // hinge: losses.loss_hinge_gen; logistic: StyleGAN2's g_nonsaturating_loss.
            var loss = Options.Loss == BigGanLoss.Hinge ? -output.mean() : F.softplus(-output).mean();
            if (kindLoss is not null) loss = loss + Options.KindClassifierWeight * kindLoss;
            bool redrawOn = Options.RedrawTieWeight > 0 && Step >= Options.RedrawTieStart;
            bool placeOn = Options.PlaceTieWeight > 0 && Step >= Options.PlaceTieStart;
            // the scenes the noise names: the scene tie's and the place tie's targets and the redraw tie's fallback, read once
            var named = Options.SceneTieWeight > 0 || redrawOn || placeOn ? NoiseScenes.Specs(z, y) : null;
            // the world's drawings of them in [0, 1], rendered once for both ties that compare with them
            var namedPictures = Options.SceneTieWeight > 0 || placeOn ? RenderScenes(named!) : null;
            if (Options.SceneTieWeight > 0)
            {
                var tie = (fake - (namedPictures! * 2 - 1)).abs().mean();
                loss = loss + Options.SceneTieWeight * tie;
                gSceneTie = tie.item<float>();
            }
            if (placeOn)
            {
                var place = PlaceTie.Term((fake + 1) / 2, namedPictures!, y);
                loss = loss + Options.PlaceTieWeight * place;
                gPlaceTie = place.item<float>();
            }
            if (redrawOn)
            {
                var (target, mask) = RedrawnTargets(fake, y, named!);
                var redraw = ((fake - target).abs() * mask).sum() / (mask.sum() * 3 + 1);
                loss = loss + Options.RedrawTieWeight * redraw;
                gRedrawTie = redraw.item<float>();
            }
            if (clipDOn)
            {
                // the vision-aided D's non-saturating term (its head frozen like D's)
                var clipTerm = F.softplus(-_clipD!.Forward(fake, y)).mean();
                loss = loss + Options.ClipDiscriminatorWeight * clipTerm;
                gClipD = clipTerm.item<float>();
            }
            Tensor? modeSeeking = null;
            if (Options.ModeSeekingWeight > 0)
            {
                // HelenMao/MSGAN: lz = mean|I1 − I2| / mean|z1 − z2|; loss_lz = 1 / (lz + 1e-5)
                modeSeeking = (fake.narrow(0, 0, half) - fake.narrow(0, half, half)).abs().mean()
                    / (z.narrow(0, 0, half) - z.narrow(0, half, half)).abs().mean();
                loss = loss + Options.ModeSeekingWeight / (modeSeeking + 1e-5);
            }
            _gOptimizer.zero_grad();
            loss.backward();
            _gOptimizer.step();
            if (Options.FactorisedClasses) FactoriseClassEmbedding(_g);
            gLoss = loss.item<float>();
            if (kindLoss is not null) gKind = kindLoss.item<float>();
            if (modeSeeking is not null) gModeSeeking = modeSeeking.item<float>();
        }
        finally
        {
            foreach (var p in _dParameters) p.requires_grad = true;
            if (_kindClassifier is not null) foreach (var p in _kindClassifier.parameters()) p.requires_grad = true;
            foreach (var p in _clipDParameters) p.requires_grad = true;
        }
        Step++;
        // utils.ema: G_ema pegged to G before ema_start.
        CopyEma(Step < Options.EmaStart ? 0.0 : Options.EmaDecay);

        var metrics = new Dictionary<string, double>
        {
            ["d_loss_real"] = lossReal,
            ["d_loss_fake"] = lossFake,
            ["g_loss"] = gLoss,
            ["d_real"] = dReal,
            ["d_fake"] = dFake,
            ["r1"] = r1,
        };
        if (_kindClassifier is not null)
        {
            // the kind classifier's cross-entropies (ln 12 ≈ 2.48 at chance) and its accuracy on the last real batch
            metrics["d_kind"] = dKind;
            metrics["d_kind_accuracy"] = dKindAccuracy;
            metrics["g_kind"] = gKind;
        }
        // MSGAN's lz: how far apart two samples of one class are, per unit of noise (what the term keeps from collapsing)
        if (Options.ModeSeekingWeight > 0) metrics["g_mode_seeking"] = gModeSeeking;
        // the scene tie's L1 (pixels in [-1, 1]); the CLIP head's mean logits on the D step's batches and G's term
        if (Options.SceneTieWeight > 0) metrics["g_scene_tie"] = gSceneTie;
        // the redraw tie's L1 over the object (NaN before its start)
        if (Options.RedrawTieWeight > 0) metrics["g_redraw_tie"] = gRedrawTie;
        // the place tie: mean |Δ centroid| of the class colour, in fractions of the picture (NaN before its start)
        if (Options.PlaceTieWeight > 0) metrics["g_place_tie"] = gPlaceTie;
        if (_clipD is not null)
        {
            metrics["clip_d_real"] = clipDReal;
            metrics["clip_d_fake"] = clipDFake;
            metrics["g_clip_d"] = gClipD;
        }
        return metrics;
    }

    /// <summary>
    /// One update of the kind classifier: real scenes as their kinds, and G's samples (<paramref name="fake"/>, no
    /// graph) seen through the colours of <paramref name="fakeKeys"/> as <see cref="SilhouetteKindClassifier.NoObjectClass"/>.
    /// The trainer passes the real batch's classes, drawn independently of the ones G was asked for: mostly
    /// mismatched pairs. Returns the real side's cross-entropy and accuracy.
    /// </summary>
    private (double Loss, double Accuracy) KindClassifierStep(Tensor real, Tensor realY, Tensor fake, Tensor fakeKeys)
    {
        using var scope = NewDisposeScope();
        var logits = _kindClassifier!.Forward(real, realY);
        var kinds = ClipartClasses.KindIndices(realY);
        var realLoss = F.cross_entropy(logits, kinds);
        var noObject = full(fakeKeys.shape[0], (long)SilhouetteKindClassifier.NoObjectClass, ScalarType.Int64);
        var loss = realLoss + F.cross_entropy(_kindClassifier.Forward(fake.detach(), fakeKeys), noObject);
        _kindOptimizer!.zero_grad();
        loss.backward();
        _kindOptimizer.step();
        return (realLoss.item<float>(), logits.argmax(1).eq(kinds).to(ScalarType.Float32).mean().item<float>());
    }

    /// <summary>One update of the CLIP discriminator's head (logistic loss) on the D step's batches; returns its mean logits.</summary>
    private (double Real, double Fake) ClipDiscriminatorStep(Tensor real, Tensor realY, Tensor fake, Tensor fakeY)
    {
        using var scope = NewDisposeScope();
        var onReal = _clipD!.Forward(real, realY);
        var onFake = _clipD.Forward(fake.detach(), fakeY);
        var loss = F.softplus(-onReal).mean() + F.softplus(onFake).mean();
        _clipDOptimizer!.zero_grad();
        loss.backward();
        _clipDOptimizer.step();
        return (onReal.mean().item<float>(), onFake.mean().item<float>());
    }

    private const string ClipSha256Key = "clip_discriminator_sha256";

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>
    /// StyleGAN2's lazy R1 step (rosinality's d_r1_loss): γ/2 · E‖∇ₓD(x, y)‖² · d_reg_every on the real batch,
    /// its own D update. Returns the penalty before scaling.
    /// </summary>
    private double R1Step(Tensor real, Tensor realY)
    {
        using var scope = NewDisposeScope();
        var (penalty, realPred) = R1Penalty.Compute(x => _d.Forward(x, realY), real);
        _dOptimizer.zero_grad();
        (Options.R1Gamma / 2 * penalty * Options.DRegEvery + 0 * realPred[0]).backward();
        _dOptimizer.step();
        return penalty.item<float>();
    }

    /// <summary>
    /// Projects G's class embedding W [dim, kinds·colours] onto the additive matrices a_k + b_c (the orthogonal
    /// projection: row mean over colours + column mean over kinds − overall mean, per output dimension).
    /// </summary>
    internal static void FactoriseClassEmbedding(BigGanModel g)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var weight = g.Embeddings.weight!;
        int colours = Vocabulary.Colors.Length;
        var w = weight.view(weight.shape[0], -1, colours);
        var additive = w.mean([2L], keepdim: true) + w.mean([1L], keepdim: true) - w.mean([1L, 2L], keepdim: true);
        weight.copy_(additive.reshape(weight.shape));
    }

    /// <summary>The world's drawings of <paramref name="specs"/> in [0, 1] at <see cref="BigGanTrainingOptions.Resolution"/>: drawn at 64 px, area-averaged below it.</summary>
    internal Tensor RenderScenes(IReadOnlyList<SceneSpec> specs)
    {
        var pictures = ClipartBatches.Render(specs, _renderThreads);
        return Options.Resolution == SceneLayout.Size ? pictures : F.avg_pool2d(pictures, SceneLayout.Size / Options.Resolution);
    }

    /// <summary>
    /// The redraw tie's targets and masks at G's side: below 64 px the samples are read upsampled (as the judge reads
    /// them), the world's redrawing area-averaged back down and its mask max-pooled (a pixel counts if any of its 64-px
    /// pixels does).
    /// </summary>
    internal (Tensor Target, Tensor Mask) RedrawnTargets(Tensor fake, Tensor y, IReadOnlyList<SceneSpec> named)
    {
        if (Options.Resolution == SceneLayout.Size) return RedrawnScenes.Targets(fake, y, named, _renderThreads);
        int factor = SceneLayout.Size / Options.Resolution;
        using var scope = NewDisposeScope();
        var read = F.interpolate(fake.detach(), [SceneLayout.Size, SceneLayout.Size], mode: InterpolationMode.Bilinear, align_corners: false);
        var (target, mask) = RedrawnScenes.Targets(read, y, named, _renderThreads);
        return (F.avg_pool2d(target, factor).MoveToOuterDisposeScope(), F.max_pool2d(mask, factor).MoveToOuterDisposeScope());
    }

    private (Tensor Z, Tensor Y) Noise(int batch, torch.Generator noise) =>
        (randn(batch, Config.ZDim, generator: noise), randint(0, Config.NumClasses, [batch], generator: noise));

    private Tensor OneHot(Tensor classIds) => F.one_hot(classIds, Config.NumClasses).to(ScalarType.Float32);

    private void CopyEma(double decay)
    {
        using var _ = no_grad();
        foreach (var (source, target) in _emaPairs)
        {
            if (decay == 0.0) target.copy_(source);
            else target.mul_(decay).add_(source, alpha: 1 - decay);
        }
    }

    /// <summary>
    /// Class accuracy of G_ema with standing statistics (as exported): <paramref name="heldOutScenes"/> samples, classes
    /// in turn, truncation <see cref="BigGanTrainingOptions.EvalTruncation"/>, each judged against "a &lt;colour&gt; &lt;kind&gt;".
    /// </summary>
    public IReadOnlyDictionary<string, double> Evaluate(int heldOutScenes)
    {
        var model = Prepared();
        if (_judge is null) return new Dictionary<string, double> { ["class_accuracy"] = double.NaN };
        var r = BigGanClassAccuracy.Run(model, heldOutScenes, Options.EvalTruncation, _judge);
        var c = r.Coverage;
        double Share(int n) => c.Located == 0 ? double.NaN : (double)n / c.Located;
        return new Dictionary<string, double>
        {
            ["class_accuracy"] = r.Accuracy, ["colour_accuracy"] = r.ColourAccuracy, ["valid"] = r.ValidRate,
            // what the accuracy cannot show (SceneCoverage): backgrounds on 5% of the samples or more (the world: 5), and the
            // share of objects in each outer third (the world's scenes: about 0.2 each; one side only is a collapse too)
            ["backgrounds"] = c.BackgroundsAbove(),
            ["left"] = Share(c.Columns[0]), ["right"] = Share(c.Columns[2]), ["top"] = Share(c.Rows[0]), ["bottom"] = Share(c.Rows[2]),
        };
    }

    /// <summary>A copy of G_ema with standing statistics accumulated and spectral norms folded, in eval mode (cached per step).</summary>
    internal BigGanModel Prepared()
    {
        if (_prepared is { } p && p.Step == Step) return p.Model;
        _prepared?.Model.Dispose();
        _prepared = null;
        var model = new BigGanModel(Config);
        try
        {
            using (no_grad())
            {
                var emaState = _gEma.state_dict();
                foreach (var (name, tensor) in model.state_dict()) tensor.copy_(emaState[name]);
            }
            StandingStatistics.Accumulate(model, Options.StandingBatches, Options.StandingBatchSize,
                ClipartBatches.StepSeed(Options.Seed ^ 0x57A7, Step));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        _prepared = (Step, model);
        return model;
    }

    public void SaveCheckpoint(string directory)
    {
        var json = Options.ToJson();
        // the CLIP file's hash: a resumed run refuses another file at the same path
        if (_clipSha256 is not null) json[ClipSha256Key] = _clipSha256;
        var more = new List<(string, OptimizerHelper)> { ("d", _dOptimizer) };
        if (_kindOptimizer is not null) more.Add(("k", _kindOptimizer));
        if (_clipDOptimizer is not null) more.Add(("c", _clipDOptimizer));
        TrainingCheckpoint.Save(directory, CheckpointKind, Step, json, _modules, _gOptimizer, moreOptimizers: [.. more]);
    }

    /// <summary>
    /// Writes <paramref name="path"/> (safetensors, pytorch-pretrained-BigGAN names, standing statistics filled,
    /// weight_orig/u/v), <c>&lt;stem&gt;.config.json</c> and <c>&lt;stem&gt;.classes.txt</c> (class id i on line i+1) beside it.
    /// </summary>
    public void Export(string path)
    {
        var model = Prepared();
        model.Save(path, BigGanCheckpointLayout.ConfigPathBeside(path));
        File.WriteAllLines(ClassNames.PathBeside(path), ClipartClasses.Names());
    }

    public void Dispose()
    {
        _prepared?.Model.Dispose();
        _gOptimizer.Dispose();
        _dOptimizer.Dispose();
        _kindOptimizer?.Dispose();
        _kindClassifier?.Dispose();
        _clipDOptimizer?.Dispose();
        _clipD?.Dispose();
        _clip?.Dispose();
        _g.Dispose();
        _dModule.Dispose();
        _gEma.Dispose();
    }

    private sealed class GanModules : nn.Module
    {
        public GanModules(BigGanModel g, nn.Module d, BigGanModel gEma, SilhouetteKindClassifier? kindClassifier, ClipFeatureDiscriminator? clipD) : base("BigGanTraining")
        {
            register_module("G", g);
            register_module("D", d);
            register_module("G_ema", gEma);
            if (kindClassifier is not null) register_module("K", kindClassifier);
            if (clipD is not null) register_module("C", clipD);
        }
    }
}

/// <summary>
/// BigGAN-PyTorch's <c>accumulate_standing_stats</c>, per truncation as the pretrained BigGAN-deep's [n_stats, C]
/// tables hold them: for row i (truncation t = i/(n_stats−1), the row <see cref="TruncationStats.Select"/> picks for t),
/// run the generator in training mode on <c>batches</c> batches of truncated noise · t and random classes, and store the
/// average of the batch means and of the batch (biased) variances of every batch norm. Leaves the model in eval mode
/// (spectral norms folded). The training-mode forwards also run spectral norm's power iteration, as upstream's do.
/// </summary>
public static class StandingStatistics
{
    public static void Accumulate(BigGanModel model, int batches, int batchSize, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        var norms = model.modules().OfType<BigGanBatchNorm>().ToArray();
        var sumMeans = norms.Select(n => zeros(n.NumFeatures)).ToArray();
        var sumVars = norms.Select(n => zeros(n.NumFeatures)).ToArray();
        using var generator = new torch.Generator((ulong)seed);
        model.train();
        try
        {
            using var _ = no_grad();
            for (int j = 0; j < norms.Length; j++)
            {
                int index = j;
                norms[j].BatchStatisticsObserver = (mean, variance) =>
                {
                    sumMeans[index].add_(mean);
                    sumVars[index].add_(variance);
                };
            }
            for (int row = 0; row < config.NStats; row++)
            {
                double truncation = (double)row / (config.NStats - 1);
                foreach (var s in sumMeans) s.zero_();
                foreach (var s in sumVars) s.zero_();
                for (int b = 0; b < batches; b++)
                {
                    using var scope = NewDisposeScope();
                    var z = BigGanInputs.TruncatedNoise(batchSize, config.ZDim, truncation, generator);
                    var y = F.one_hot(randint(0, config.NumClasses, [batchSize], generator: generator), config.NumClasses).to(ScalarType.Float32);
                    // training mode ignores the truncation argument (batch statistics); 1 passes the range check.
                    model.Forward(z, y, 1.0);
                }
                for (int j = 0; j < norms.Length; j++)
                {
                    norms[j].RunningMeans[row].copy_(sumMeans[j] / batches);
                    norms[j].RunningVars[row].copy_(sumVars[j] / batches);
                }
            }
        }
        finally
        {
            foreach (var n in norms) n.BatchStatisticsObserver = null;
            foreach (var s in sumMeans) s.Dispose();
            foreach (var s in sumVars) s.Dispose();
            model.eval();
        }
    }
}

/// <summary>
/// How often a class-conditional clipart BigGAN's samples show their class: <c>samples</c> images, class ids in turn
/// (0, 1, ..., 119, 0, ...), truncated noise · <c>truncation</c> from a fixed seed, the model in eval mode (standing
/// statistics), each judged by <see cref="SceneJudge"/> against "a &lt;colour&gt; &lt;kind&gt;" (kind and colour must both hold).
/// </summary>
public static class BigGanClassAccuracy
{
    /// <param name="ValidRate">The share of samples <see cref="SceneReader.IsValidScene"/> reads as valid scenes, whatever their class (the StyleGAN2 trainer's measure).</param>
    /// <param name="Coverage">The samples' backgrounds and where their class's colour sits: what a high accuracy can hide (every sample of a class drawn one way).</param>
    public sealed record Result(int Samples, double Accuracy, double ColourAccuracy, double Truncation, double ValidRate, SceneCoverage Coverage);

    /// <summary>One sample per class, class id order ([120, 3, 64, 64] in [0, 1]; a grid of 12 kinds × 10 colours when saved as 10 a row).</summary>
    public static Tensor OnePerClass(BigGanModel model, double truncation, int seed = 20_240_601)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        using var generator = new torch.Generator((ulong)seed);
        var ids = Enumerable.Range(0, model.Config.NumClasses).ToArray();
        var z = BigGanInputs.TruncatedNoise(ids.Length, model.Config.ZDim, truncation, generator);
        using var _ = no_grad();
        return ((model.Forward(z, BigGanInputs.OneHot(ids, ids.Length), truncation) + 1) / 2).clamp(0, 1).MoveToOuterDisposeScope();
    }

    public static Result Run(BigGanModel model, int samples, double truncation, SceneJudge judge, int seed = 20_240_601)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(judge);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        if (model.Config.NumClasses != ClipartClasses.Count)
            throw new ArgumentException($"The model has {model.Config.NumClasses} classes; the clipart BigGAN's are {ClipartClasses.Count} (kind, colour) pairs.");
        using var generator = new torch.Generator((ulong)seed);
        int satisfied = 0, colourRight = 0, valid = 0;
        var coverage = new SceneCoverage(judge.Settings);
        const int batch = 60;
        var captions = new CaptionSpec?[ClipartClasses.Count];   // each class's caption parsed once
        for (int start = 0; start < samples; start += batch)
        {
            int n = Math.Min(batch, samples - start);
            using var scope = NewDisposeScope();
            var ids = Enumerable.Range(start, n).Select(i => i % ClipartClasses.Count).ToArray();
            var z = BigGanInputs.TruncatedNoise(n, model.Config.ZDim, truncation, generator);
            Tensor pictures;
            using (no_grad()) pictures = ((model.Forward(z, BigGanInputs.OneHot(ids, ClipartClasses.Count), truncation) + 1) / 2).clamp(0, 1);
            int threads = get_num_threads();
            set_num_threads(1);
            try
            {
                for (int i = 0; i < n; i++)
                {
                    // one planar copy (64x64, [0, 1]) for the verdict, the coverage and the scene reader
                    var planar = SceneJudge.ToPlanar64(pictures[i]);
                    var caption = captions[ids[i]] ??= CaptionParser.Parse(ClipartClasses.Caption(ids[i]));
                    var verdict = judge.Judge(planar, caption);
                    if (verdict.Satisfied) satisfied++;
                    if (verdict.Checks.Where(c => !c.Name.Contains("kind", StringComparison.OrdinalIgnoreCase)).All(c => c.Outcome != CheckOutcome.Failed)) colourRight++;
                    coverage.Add(planar, ClipartClasses.Of(ids[i]).Color);
                    if (SceneReader.IsValidScene(planar, judge).Valid) valid++;
                }
            }
            finally { set_num_threads(threads); }
        }
        return new Result(samples, (double)satisfied / samples, (double)colourRight / samples, truncation, (double)valid / samples, coverage);
    }
}
