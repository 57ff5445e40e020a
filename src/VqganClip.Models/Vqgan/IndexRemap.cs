using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// taming's codebook index remapping (<c>remap</c> in VectorQuantizer2 / GumbelQuantize): a model may
/// expose only the "used" codebook entries, numbered 0..used-1 in the order of the <c>used</c> array.
/// <c>remap_to_used</c> maps codebook indices to positions in <c>used</c> (indices not in it become
/// <c>unknown_index</c>: random, an extra token, or a fixed integer); <c>unmap_to_all</c> goes back.
/// Done with a lookup table rather than taming's [b, n, used] comparison tensor: same result
/// (first matching position wins, as argmax does), without a tensor of n_embed x tokens.
/// </summary>
public sealed class IndexRemap
{
    private readonly long[] _used;
    private readonly long[] _positionOfCode;   // code -> first position in used, or -1

    /// <param name="used">The used codebook indices (taming's <c>quantize.used</c> buffer / remap .npy).</param>
    /// <param name="codebookSize">n_embed.</param>
    /// <param name="unknownIndex">"random", "extra" or an integer, as taming's <c>unknown_index</c>.</param>
    public IndexRemap(long[] used, int codebookSize, string unknownIndex = "random")
    {
        if (used.Length == 0) throw new ArgumentException("Codebook remap: the 'used' index array is empty.", nameof(used));
        foreach (var u in used)
            if (u < 0 || u >= codebookSize)
                throw new ArgumentException($"Codebook remap: used index {u} is outside the codebook [0, {codebookSize}).", nameof(used));
        _used = used;
        _positionOfCode = Enumerable.Repeat(-1L, codebookSize).ToArray();
        for (int j = used.Length - 1; j >= 0; j--) _positionOfCode[used[j]] = j;

        ReEmbed = used.Length;
        if (unknownIndex == "random") UnknownIndex = null;
        else if (unknownIndex == "extra") { UnknownIndex = used.Length; ReEmbed = used.Length + 1; }
        else if (long.TryParse(unknownIndex, out var fixedIndex)) UnknownIndex = fixedIndex;
        else throw new ArgumentException($"Codebook remap: unknown_index must be \"random\", \"extra\" or an integer (got '{unknownIndex}').", nameof(unknownIndex));
    }

    /// <summary>The used codebook indices.</summary>
    public IReadOnlyList<long> Used => _used;

    /// <summary>taming's <c>re_embed</c>: how many remapped indices exist (used, plus one with "extra").</summary>
    public long ReEmbed { get; }

    /// <summary>The index given to codes outside <see cref="Used"/>; null means a random one in [0, ReEmbed).</summary>
    public long? UnknownIndex { get; }

    /// <summary>taming's <c>remap_to_used</c>, any shape; unknown codes get <see cref="UnknownIndex"/> or a random index.</summary>
    public Tensor RemapToUsed(Tensor indices)
    {
        var codes = ToArray(indices);
        var mapped = new long[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            long code = codes[i];
            long position = code >= 0 && code < _positionOfCode.Length ? _positionOfCode[code] : -1;
            mapped[i] = position >= 0 ? position : UnknownIndex ?? randint(0, ReEmbed, Array.Empty<long>()).item<long>();
        }
        return tensor(mapped, indices.shape, dtype: ScalarType.Int64).to(indices.device);
    }

    /// <summary>taming's <c>unmap_to_all</c>, any shape: remapped indices back to codebook indices (the extra token becomes used[0]).</summary>
    public Tensor UnmapToAll(Tensor indices)
    {
        var positions = ToArray(indices);
        var codes = new long[positions.Length];
        for (int i = 0; i < positions.Length; i++)
        {
            long p = positions[i];
            // taming: with an extra token, indices >= len(used) are set to 0 before the gather.
            if (ReEmbed > _used.Length && p >= _used.Length) p = 0;
            if (p < 0 || p >= _used.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Remapped codebook index {positions[i]} is outside [0, {_used.Length}).");
            codes[i] = _used[p];
        }
        return tensor(codes, indices.shape, dtype: ScalarType.Int64).to(indices.device);
    }

    private static long[] ToArray(Tensor indices)
    {
        using var cpu = indices.detach().to(ScalarType.Int64).cpu().contiguous();
        return cpu.data<long>().ToArray();
    }
}
