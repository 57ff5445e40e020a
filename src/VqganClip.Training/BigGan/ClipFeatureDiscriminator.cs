using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Clipart;
using VqganClip.Models.Clip;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Training.BigGan;

/// <summary>
/// A vision-aided discriminator (Kumari, Zhang, Shechtman and Zhu 2022, "Ensembling Off-the-shelf Models for GAN
/// Training"): a frozen CLIP image tower as the backbone and a small trained head on its embedding, with a projection
/// term over the class (Miyato and Koyama 2018), here a kind table plus a colour table as the clipart BigGAN's
/// factorised D has. The clipart BigGAN trainer runs it beside its own D (<see cref="BigGanTrainingOptions.ClipDiscriminatorPath"/>):
/// CLIP already tells the kinds apart, which D's own projection term did not teach G within the time budget.
/// Training only; never exported.
/// <para>
/// The head: D(x, y) = out(h) + ⟨kind_embed(k) + colour_embed(c), h⟩ / √hidden, h = LeakyReLU₀.₂(fc2(LeakyReLU₀.₂(fc1(f)))),
/// f = CLIP's image embedding L2-normalised and scaled to norm √width (unit-variance entries, the scale a freshly
/// initialised linear layer expects). Only the head is this module's state (prefix "C." in a checkpoint); the CLIP
/// is loaded from its file, held by the caller, and receives no gradient for its weights (G's gradient flows through
/// it to the image).
/// </para>
/// </summary>
public sealed class ClipFeatureDiscriminator : nn.Module
{
    // The backbone as a function, not a field: TorchSharp registers a module's Module-typed fields as submodules
    // (even private ones, when it first lists them), which would put CLIP's frozen weights into the head's state
    // dict and parameters.
    private readonly Func<Tensor, Tensor> _embed;
    private readonly int _imageSize;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear @out;
    private readonly Embedding kind_embed;
    private readonly Embedding colour_embed;
    private readonly int _hidden;

    /// <param name="clip">The frozen backbone (not owned: the caller disposes it).</param>
    public ClipFeatureDiscriminator(ClipModel clip, int hidden = 256) : base("ClipFeatureDiscriminator")
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        _embed = pixels01 => clip.EncodeImage(clip.Normalize(pixels01));
        _imageSize = clip.ImageSize;
        _hidden = hidden;
        int width = clip.Config.EmbedDim;
        fc1 = nn.Linear(width, hidden);
        fc2 = nn.Linear(hidden, hidden);
        @out = nn.Linear(hidden, 1);
        kind_embed = nn.Embedding(Vocabulary.Kinds.Length, hidden);
        colour_embed = nn.Embedding(Vocabulary.Colors.Length, hidden);
        using (no_grad())
        {
            // so that the projection term starts at the size of the linear one
            nn.init.normal_(kind_embed.weight!, 0, 1.0 / Math.Sqrt(hidden));
            nn.init.normal_(colour_embed.weight!, 0, 1.0 / Math.Sqrt(hidden));
        }
        // The head only: registering the CLIP would put its frozen weights into every checkpoint.
        register_module("fc1", fc1);
        register_module("fc2", fc2);
        register_module("out", @out);
        register_module("kind_embed", kind_embed);
        register_module("colour_embed", colour_embed);
    }

    /// <summary>Pictures [N, 3, H, W] in [-1, 1] (G's range) and their class ids [N] → logits [N] (real: high).</summary>
    public Tensor Forward(Tensor x, Tensor classIds)
    {
        using var scope = NewDisposeScope();
        var pixels = (x + 1) / 2;
        if (pixels.shape[2] != _imageSize || pixels.shape[3] != _imageSize)
            pixels = F.interpolate(pixels, [_imageSize, _imageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        var f = _embed(pixels);
        f = F.normalize(f, dim: 1) * Math.Sqrt(f.shape[1]);
        var h = F.leaky_relu(fc1.forward(f), 0.2);
        h = F.leaky_relu(fc2.forward(h), 0.2);
        var e = kind_embed.forward(ClipartClasses.KindIndices(classIds)) + colour_embed.forward(ClipartClasses.ColourIndices(classIds));
        return (@out.forward(h).squeeze(1) + (e * h).sum(1) / Math.Sqrt(_hidden)).MoveToOuterDisposeScope();
    }
}
