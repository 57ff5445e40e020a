using VqganClip.Clipart;
using static TorchSharp.torch;

namespace VqganClip.Training.BigGan;

/// <summary>
/// The one-object scene a clipart BigGAN's noise names (<see cref="BigGanTrainingOptions.SceneTieWeight"/>): G's
/// sample for (z, class) is pulled toward the world's rendering of that scene, so that each z is one of the world's
/// scenes (all five backgrounds, every place and size) instead of wherever the adversarial game leaves it. Without
/// it the clipart G drew three or four of the five backgrounds and most objects right of centre.
/// <para>
/// Read from z by argmaxes and signs only, so it is uniform over the choices as the world's sampler is, and
/// truncation (z scaled by t) does not change the background, place or size a z names (only its jitter shrinks): background = the highest of z[0..4] that does
/// not swallow the class's colour (the world never draws those pairs), position = argmax z[5..9] (the order of
/// <see cref="Vocabulary.Positions"/>), size = argmax z[10..11], and the jitter of x, y, extent and rotation =
/// (2Φ(z[12..15]) − 1) × <see cref="SceneSampler"/>'s amplitudes. z[16..] are free. Needs z_dim ≥ 16.
/// </para>
/// </summary>
public static class NoiseScenes
{
    // (declared before Dimensions: static fields initialise in the order they are written)
    private static readonly int Nb = Vocabulary.Backgrounds.Length, Np = Vocabulary.Positions.Length, Ns = Vocabulary.Sizes.Length;

    /// <summary>The entries of z the scene is read from (16).</summary>
    public static readonly int Dimensions = Nb + Np + Ns + 4;

    /// <summary>One scene per row of <paramref name="z"/> [N, z_dim] for the classes <paramref name="classIds"/> [N].</summary>
    public static SceneSpec[] Specs(Tensor z, Tensor classIds)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(classIds);
        if (z.dim() != 2 || z.shape[1] < Dimensions)
            throw new ArgumentException($"A scene is read from the first {Dimensions} entries of each noise row; got noise of shape [{string.Join(", ", z.shape)}].", nameof(z));
        if (classIds.dim() != 1 || classIds.shape[0] != z.shape[0])
            throw new ArgumentException($"One class id per noise row: got {classIds.shape[0]} ids for {z.shape[0]} rows.", nameof(classIds));
        var zs = z.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();
        var ids = classIds.cpu().data<long>().ToArray();
        int dim = (int)z.shape[1];
        var specs = new SceneSpec[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            var v = zs.AsSpan(i * dim, dim).ToArray();
            var (kind, color) = ClipartClasses.Of((int)ids[i]);
            var background = Enumerable.Range(0, Nb).OrderByDescending(k => v[k]).Select(k => Vocabulary.Backgrounds[k])
                .First(b => !Palette.Clashes(color, b));
            var position = Vocabulary.Positions[ArgMax(v.AsSpan(Nb, Np))];
            var size = Vocabulary.Sizes[ArgMax(v.AsSpan(Nb + Np, Ns))];
            int j = Nb + Np + Ns;   // the four jitters
            float U(int k) => (float)(2 * Phi(v[j + k]) - 1);
            var (x, y) = SceneLayout.CenterOf(position);
            var (ax, ay) = SceneSampler.CenterJitter(position);
            x += U(0) * ax;
            y += U(1) * ay;
            float extent = SceneLayout.ExtentOf(size) * (1f + U(2) * SceneSampler.ExtentJitter);
            specs[i] = new SceneSpec([new SceneObject(kind, color, size, position, x, y, extent, U(3) * SceneSampler.RotationJitter)], null, background);
        }
        return specs;
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    // The standard normal's CDF through erf (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7): .NET has no erf.
    internal static double Phi(double x)
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x) / Math.Sqrt(2));
        double erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
            * Math.Exp(-x * x / 2);
        return 0.5 * (1 + Math.Sign(x) * erf);
    }
}
