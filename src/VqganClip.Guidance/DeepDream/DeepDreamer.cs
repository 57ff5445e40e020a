using TorchSharp;
using VqganClip.Models.Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Guidance.DeepDream;

/// <summary>
/// DeepDream (google/deepdream's dream.ipynb, Mordvintsev et al. 2015) on an <see cref="IDreamNetwork"/> (ML.NET's
/// ResNet18, or CLIP's ResNet image tower): the picture, in the network's input units, climbs the gradient of an
/// objective on one layer. As the notebook's
/// <c>make_step</c>: roll the picture by a random shift (seeded), forward to the layer, objective = mean of the
/// squared activations (the notebook's L2; its gradient is the activations) or one channel's mean, backward,
/// <c>x += step / mean|g| * g</c> (g and the step in 0..255 pixel units, whatever the network's own units), roll
/// back, clip to the valid pixel range. As its <c>deepdream</c>: octaves from
/// the smallest (the picture shrunk by the scale, again and again) to the full size, each starting from its own
/// shrunk picture plus the detail the dream added at the smaller octave, enlarged (bilinear). Sides that are not
/// multiples of 32 are padded by reflection for the forward pass only. Each step runs in its own dispose scope, so
/// memory stays flat; the same seed gives the same picture.
/// </summary>
public sealed class DeepDreamer
{
    public DeepDreamer(IDreamNetwork network) => Network = network ?? throw new ArgumentNullException(nameof(network));

    /// <summary>On ML.NET's ResNet18.</summary>
    public DeepDreamer(OnnxResNet network) : this(new ResNet18DreamNetwork(network)) { }

    public IDreamNetwork Network { get; }

    /// <summary>The octaves' sizes (width, height), smallest first, ending at the picture's own.</summary>
    public static IReadOnlyList<(int Width, int Height)> OctaveSizes(int width, int height, int octaves, double scale)
    {
        var sizes = new List<(int, int)> { (width, height) };
        for (int i = 1; i < octaves; i++)
        {
            var (w, h) = sizes[^1];
            sizes.Add(((int)Math.Round(w / scale, MidpointRounding.AwayFromZero), (int)Math.Round(h / scale, MidpointRounding.AwayFromZero)));
        }
        sizes.Reverse();
        return sizes;
    }

    /// <summary>
    /// Dreams on <paramref name="rgb01"/> [1,3,H,W] in [0,1]; returns a new [1,3,H,W] picture in [0,1] (the input is
    /// untouched). <paramref name="progress"/> hears of every step.
    /// </summary>
    public Tensor Dream(Tensor rgb01, DreamSettings settings, Action<DreamProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(rgb01);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (rgb01.dim() != 4 || rgb01.shape[0] != 1 || rgb01.shape[1] != 3)
            throw new ArgumentException($"DeepDream takes one RGB picture [1,3,H,W]; got [{string.Join(",", rgb01.shape)}].");
        int width = (int)rgb01.shape[3], height = (int)rgb01.shape[2];
        var sizes = OctaveSizes(width, height, settings.Octaves, settings.OctaveScale);
        if (Math.Min(sizes[0].Width, sizes[0].Height) < DreamSettings.MinimumSide)
        {
            int most = 1;
            while (most < settings.Octaves && Math.Min(OctaveSizes(width, height, most + 1, settings.OctaveScale)[0].Width,
                       OctaveSizes(width, height, most + 1, settings.OctaveScale)[0].Height) >= DreamSettings.MinimumSide) most++;
            throw new ArgumentException($"--octaves {settings.Octaves} at scale {settings.OctaveScale} shrinks this {width}x{height} picture to {sizes[0].Width}x{sizes[0].Height}, under {DreamSettings.MinimumSide} px; use --octaves {most} or fewer (or a larger picture).");
        }
        string named = settings.Layer ?? Network.DefaultLayer;
        string layer = Network.Resolve(named);
        if (settings.Channel is int c)
        {
            long channels = Network.Channels(named);
            if (channels > 0 && c >= channels)
                throw new ArgumentException($"--channel {c}: layer {named} has {channels} channels (0-{channels - 1}).");
        }

        var rng = new Random(unchecked((int)settings.Seed ^ (int)(settings.Seed >> 32)));
        using var outer = NewDisposeScope();
        using var noGrad = no_grad();
        var device = rgb01.device;
        // The valid range and the size of one 0..255 pixel step, per channel, in the network's units.
        var black = Network.Preprocess(zeros(1, 3, 1, 1, device: device));
        var white = Network.Preprocess(ones(1, 3, 1, 1, device: device));
        var low = minimum(black, white);
        var high = maximum(black, white);
        var unit = (white - black).abs() / 255;
        var full = Network.Preprocess(rgb01.detach().to(ScalarType.Float32));
        Tensor? detail = null;
        Tensor picture = full;
        for (int o = 0; o < sizes.Count; o++)
        {
            var (w, h) = sizes[o];
            var octaveBase = o == sizes.Count - 1 ? full : Resize(full, w, h);
            var start = detail is null ? octaveBase.clone() : octaveBase + Resize(detail, w, h);
            picture = start;
            for (int i = 0; i < settings.Steps; i++)
            {
                cancel.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                int ox = settings.Jitter == 0 ? 0 : rng.Next(-settings.Jitter, settings.Jitter + 1);
                int oy = settings.Jitter == 0 ? 0 : rng.Next(-settings.Jitter, settings.Jitter + 1);
                var (next, objective) = Step(picture, layer, settings, ox, oy, low, high, unit);
                var previous = picture;
                picture = next.MoveToOuterDisposeScope();
                previous.Dispose();   // one picture alive at a time: memory stays flat over the steps
                progress?.Invoke(new DreamProgress(o, sizes.Count, i, settings.Steps, w, h, objective));
            }
            detail?.Dispose();
            detail = picture - octaveBase;
        }
        return Network.Deprocess(picture).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>One ascent step on a network-space picture shifted by (<paramref name="ox"/>, <paramref name="oy"/>); returns the new picture and the objective before the step.</summary>
    private (Tensor Picture, double Objective) Step(Tensor picture, string layer, DreamSettings settings, int ox, int oy, Tensor low, Tensor high, Tensor unit)
    {
        var shifted = picture.roll([oy, ox], [2, 3]).detach().requires_grad_(true);
        Tensor g;
        double value;
        using (enable_grad())
        {
            var objective = Objective(shifted, layer, settings.Channel);
            value = objective.item<float>();
            objective.backward();
            g = shifted.grad! * unit;   // the gradient with respect to 0..255 pixel values
        }
        // No additive epsilon: gradients can be tiny (1e-9 on a random network), and the step must not shrink with them.
        double meanAbs = g.abs().mean().item<float>();
        var moved = meanAbs > 0 && double.IsFinite(meanAbs) ? shifted.detach() + g * unit * (settings.StepSize / meanAbs) : shifted.detach();
        var back = moved.roll([-oy, -ox], [2, 3]);
        return (torch.maximum(torch.minimum(back, high), low), value);
    }

    /// <summary>The objective on a network-space picture: mean of squared activations at the layer, or one channel's mean.</summary>
    public Tensor Objective(Tensor netPicture, string? layer, int? channel)
    {
        using var scope = NewDisposeScope();
        var act = Network.Activation(netPicture, Network.Resolve(layer ?? Network.DefaultLayer));
        var value = channel is int c ? act[.., c].mean() : act.pow(2).mean();
        return value.MoveToOuterDisposeScope();
    }

    private static Tensor Resize(Tensor x, int width, int height) =>
        F.interpolate(x, [height, width], mode: InterpolationMode.Bilinear, align_corners: true);
}
