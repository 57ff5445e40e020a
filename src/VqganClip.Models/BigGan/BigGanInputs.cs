using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Models.BigGan;

/// <summary>
/// Inputs for <see cref="BigGanModel.Forward"/>, after upstream's utils.py: one-hot class vectors (by id, or by ImageNet
/// name through the shipped <see cref="ClassNames.ImageNet"/> list instead of upstream's WordNet lookup) and
/// truncated noise.
/// </summary>
public static class BigGanInputs
{
    /// <summary>Class vectors [ids.Count, numClasses], one-hot (upstream's <c>one_hot_from_int</c>).</summary>
    public static Tensor OneHot(IReadOnlyList<int> classIds, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(classIds);
        var vectors = zeros(classIds.Count, numClasses);
        for (int row = 0; row < classIds.Count; row++)
        {
            if (classIds[row] < 0 || classIds[row] >= numClasses)
            {
                vectors.Dispose();
                throw new ArgumentOutOfRangeException(nameof(classIds), $"Class id {classIds[row]} is outside 0..{numClasses - 1}.");
            }
            vectors[row, classIds[row]] = 1.0f;
        }
        return vectors;
    }

    /// <summary>The ImageNet class id of <paramref name="name"/> (case-insensitive, as <see cref="ClassNames.ImageNet"/> writes it: "goldfish", "great white shark").</summary>
    /// <exception cref="ArgumentException">No class has that name (the message suggests names containing it).</exception>
    public static int ImageNetClassId(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var names = ClassNames.ImageNet.Names;
        var wanted = name.Trim();
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], wanted, StringComparison.OrdinalIgnoreCase)) return i;
        var close = names.Where(n => n.Contains(wanted, StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
        throw new ArgumentException($"No ImageNet class is named '{name}'." + (close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : ""), nameof(name));
    }

    /// <summary>
    /// upstream's <c>truncated_noise_sample</c>: N(0, 1) truncated to [-2, 2] (by resampling the values outside), times
    /// <paramref name="truncation"/>. Same distribution as upstream's scipy truncnorm; not the same numbers for a seed.
    /// </summary>
    public static Tensor TruncatedNoise(int batch, int zDim, double truncation, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var values = randn(batch, zDim, generator: generator);
        while (true)
        {
            var outside = values.abs().gt(2.0);
            if (!outside.any().item<bool>()) break;
            values = where(outside, randn(batch, zDim, generator: generator), values);
        }
        return (values * truncation).MoveToOuterDisposeScope();
    }
}
