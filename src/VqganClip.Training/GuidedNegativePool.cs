using TorchSharp;
using VqganClip.Clipart;
using VqganClip.Guidance.Cutouts;
using VqganClip.Guidance.Generators;
using VqganClip.Models.Clip;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// What guidance makes, as training data for the guide. A persistent pool of VQGAN latents, each paired with a
/// captioned scene, is optimised against the CLIP being trained exactly as <c>generate</c> does (random codes to
/// start, straight-through snapping to the codebook, the decoder, augmented cutouts, the spherical distance to the
/// caption, Adam on the latent, clamped to the codebook's range). Every training step moves a slice of the pool a
/// few guidance steps with the current weights and hands back the pictures, so the trainer can ask each caption to
/// prefer a VQGAN reconstruction of its real drawing over the picture guidance made for it.
/// <para>Why: a CLIP trained on drawings alone scores the smears guidance finds as high as the drawings (a
/// classifier's adversarial examples); seen as an energy model of images given a caption, this is training with
/// persistent contrastive-divergence chains (Tieleman 2008; Du and Mordatch 2019), whose sampler here is guidance
/// itself, so its energy is shaped exactly where guidance goes. Chains restart from random codes and a new scene
/// after <see cref="GuidedNegativeOptions.MaxAge"/> guidance steps, staggered so every depth of a run is present.</para>
/// <para>The pool is not saved in checkpoints: a resumed run starts fresh chains.</para>
/// </summary>
public sealed class GuidedNegativePool : IDisposable
{
    private readonly VqganModel _vqgan;
    private readonly GuidedNegativeOptions _options;
    private readonly Tensor _z, _m, _v, _zMin, _zMax;
    private readonly int[] _age, _lifetime;
    private readonly SceneSpec[] _specs;
    private readonly string[] _captions;
    private readonly AugmentedCutouts _cutouts;
    private readonly Generator _rng;
    private readonly SceneSampler _scenes;
    private int _cursor;

    /// <param name="vqgan">The frozen VQGAN guidance drives; owned by the pool.</param>
    /// <param name="clipImageSize">Side of the CLIP's input (the cutouts' size).</param>
    public GuidedNegativePool(VqganModel vqgan, GuidedNegativeOptions options, int clipImageSize, long seed)
    {
        ArgumentNullException.ThrowIfNull(vqgan);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _vqgan = vqgan;
        _options = options;
        int side = SceneLayout.Size / vqgan.DownsamplingFactor;
        if (side * vqgan.DownsamplingFactor != SceneLayout.Size)
            throw new ArgumentException($"The VQGAN's downsampling factor {vqgan.DownsamplingFactor} does not divide the {SceneLayout.Size}-pixel scenes.");
        long embed = vqgan.Codebook.shape[1];
        int n = options.PoolSize;
        _z = zeros(n, embed, side, side);
        _m = zeros_like(_z);
        _v = zeros_like(_z);
        using (no_grad())
        {
            _zMin = vqgan.Codebook.min(0).values.view(1L, -1, 1, 1).clone();
            _zMax = vqgan.Codebook.max(0).values.view(1L, -1, 1, 1).clone();
        }
        _age = new int[n];
        _lifetime = new int[n];
        _specs = new SceneSpec[n];
        _captions = new string[n];
        _cutouts = new AugmentedCutouts(clipImageSize, options.Cutouts, 1.0, new AugmentOptions());
        _rng = new Generator((ulong)ClipartBatches.StepSeed(seed ^ 0x6E6, 0));
        _scenes = new SceneSampler(ClipartBatches.StepSeed(seed ^ 0x6E7, 0));
        for (int i = 0; i < n; i++)
        {
            Restart(i);
            // Staggered: chain i's first life is (i+1)/n of MaxAge, so chains of every depth are present early on.
            _lifetime[i] = (int)Math.Max(1, (long)(i + 1) * options.MaxAge / n);
        }
    }

    public int Count => _options.PoolSize;

    /// <summary>Guidance steps taken so far by each chain since its restart (for tests and logs).</summary>
    public IReadOnlyList<int> Ages => _age;

    /// <summary>
    /// Moves the next <see cref="GuidedNegativeOptions.Batch"/> chains (round robin) <see cref="GuidedNegativeOptions.StepsPerAdvance"/>
    /// guidance steps against <paramref name="clip"/> and returns their pictures [m,3,64,64] in [0,1] (no gradient) with
    /// their scenes and captions. Chains past <see cref="GuidedNegativeOptions.MaxAge"/> restart first.
    /// </summary>
    public (Tensor Images, SceneSpec[] Specs, string[] Captions, double Loss) Advance(ClipModel clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        int m = _options.Batch, n = _options.PoolSize;
        var rows = Enumerable.Range(0, m).Select(k => (_cursor + k) % n).ToArray();
        _cursor = (_cursor + m) % n;
        foreach (int i in rows)
            if (_age[i] >= _lifetime[i]) Restart(i);

        using var scope = NewDisposeScope();
        var index = tensor(rows.Select(r => (long)r).ToArray());
        var captions = rows.Select(r => _captions[r]).ToArray();
        Tensor targets;
        using (no_grad())
        {
            var tokens = ClipTokenizer.Default.Tokenize(captions, clip.ContextLength, truncate: true);
            var text = clip.EncodeText(tokens);
            targets = (text / text.norm(-1, keepdim: true)).detach();
        }
        double loss = 0;
        for (int s = 0; s < _options.StepsPerAdvance; s++)
            loss = GuidanceStep(clip, rows, index, targets);

        Tensor images;
        using (no_grad())
            images = Render(_z.index_select(0, index)).detach();
        return (images.MoveToOuterDisposeScope(), rows.Select(r => _specs[r]).ToArray(), captions, loss);
    }

    /// <summary>One Adam step of generate's loss on the chosen chains; returns the mean loss per chain.</summary>
    private double GuidanceStep(ClipModel clip, int[] rows, Tensor index, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var z = _z.index_select(0, index).detach().requires_grad_(true);
        var images = Render(z);
        int c = _options.Cutouts;
        var cuts = cat(Enumerable.Range(0, rows.Length).Select(i => _cutouts.Cut(images.narrow(0, i, 1), _rng)).ToArray(), 0);
        var features = clip.EncodeImage(clip.Normalize(cuts));
        features = features / features.norm(-1, keepdim: true);
        var target = targets.repeat_interleave(c, dim: 0);
        // generate's spherical distance 2·arcsin(|x−y|/2)², averaged over each chain's cutouts, summed over chains
        var distance = VqganClip.Guidance.Prompts.Prompt.SquaredSphericalDistance(features, target);
        var loss = distance.sum() / c;
        var gradient = autograd.grad([loss], [z])[0];
        // A chain whose gradient is not finite takes a zero gradient this step (its Adam moments only decay): one NaN
        // in them would turn its latent, and every picture it makes afterwards, into NaN.
        var finite = gradient.isfinite().flatten(1).all(1).view(-1, 1, 1, 1);
        gradient = where(finite, gradient, zeros_like(gradient));

        using (no_grad())
        {
            const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8; // torch.optim.Adam's defaults, as generate uses
            var m = _m.index_select(0, index).mul_(beta1).add_(gradient, alpha: 1 - beta1);
            var v = _v.index_select(0, index).mul_(beta2).addcmul_(gradient, gradient, value: 1 - beta2);
            var t = tensor(rows.Select(r => (float)(_age[r] + 1)).ToArray()).view(-1, 1, 1, 1);
            var correction1 = 1 - pow(beta1, t);
            var correction2 = 1 - pow(beta2, t);
            var step = m / correction1 / ((v / correction2).sqrt() + eps) * _options.LearningRate;
            var updated = (z.detach() - step).maximum(_zMin).minimum(_zMax);
            _z.index_copy_(0, index, updated);
            _m.index_copy_(0, index, m);
            _v.index_copy_(0, index, v);
        }
        foreach (int r in rows) _age[r]++;
        return loss.item<float>() / rows.Length;
    }

    /// <summary>generate's render (<see cref="VqganLatentGenerator.Synthesize"/>).</summary>
    private Tensor Render(Tensor z) => VqganLatentGenerator.Synthesize(_vqgan, z);

    /// <summary>VQGAN reconstructions [N,3,64,64] in [0,1] of scenes [N,3,64,64] in [0,1]: how a guided picture of them looks at best.</summary>
    public Tensor Reconstruct(Tensor scenes01) => VqganLatentGenerator.Reconstruct(_vqgan, scenes01);

    /// <summary>
    /// Chain <paramref name="i"/> starts again: random codes (generate's start), a new scene, fresh Adam moments.
    /// </summary>
    private void Restart(int i)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int side = (int)_z.shape[2];
        _z[i].copy_(VqganLatentGenerator.RandomCodeLatent(_vqgan.Codebook, side, side, _rng)[0]);
        _m[i].zero_();
        _v[i].zero_();
        _age[i] = 0;
        _lifetime[i] = _options.MaxAge;
        (_specs[i], _captions[i]) = _scenes.NextCaptioned();
    }

    public void Dispose()
    {
        _z.Dispose();
        _m.Dispose();
        _v.Dispose();
        _zMin.Dispose();
        _zMax.Dispose();
        _rng.Dispose();
        _vqgan.Dispose();
    }
}
