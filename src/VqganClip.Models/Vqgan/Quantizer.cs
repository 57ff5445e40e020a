using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>What a quantizer's forward returns, as taming's <c>(z_q, loss, (perplexity, min_encodings, indices))</c>.</summary>
/// <param name="ZQ">Quantized latent [b, embed_dim, h, w], with a straight-through (or Gumbel-softmax) gradient to the input.</param>
/// <param name="Loss">The quantizer's training loss (commitment / KL-to-prior), or null when not asked for.</param>
/// <param name="Indices">Codebook indices (after remapping, if any), int64, in the module's taming shape.</param>
public sealed record QuantizerOutput(Tensor ZQ, Tensor? Loss, Tensor Indices) : IDisposable
{
    public void Dispose()
    {
        ZQ.Dispose();
        Loss?.Dispose();
        Indices.Dispose();
    }
}

/// <summary>Common face of taming's two first-stage quantizers.</summary>
public abstract class Quantizer : nn.Module
{
    protected Quantizer(string name) : base(name) { }

    /// <summary>The codebook, [n_embed, embed_dim] (a view of the parameter: do not dispose).</summary>
    public abstract Tensor Codebook { get; }

    /// <summary>The index remap, when the model was trained with one.</summary>
    public IndexRemap? Remap { get; protected init; }

    /// <summary>taming's forward on the pre-quantization latent (quant_conv output).</summary>
    public abstract QuantizerOutput Forward(Tensor z, bool computeLoss = true);

    /// <summary>
    /// taming's <c>get_codebook_entry</c>: indices (remapped ones, when a remap is set), flattened b*h*w,
    /// to latents [b, embed_dim, h, w] for <paramref name="shape"/> = (b, h, w, embed_dim).
    /// </summary>
    public abstract Tensor GetCodebookEntry(Tensor indices, long[] shape);

    /// <summary>
    /// Nearest codebook entry of a latent that lives in codebook space (what the decoder takes),
    /// with taming's straight-through gradient z + (z_q - z).detach(); indices flattened b*h*w
    /// (remapped when a remap is set). For a VQModel this is taming's quantizer itself.
    /// </summary>
    public (Tensor zq, Tensor indices) NearestEntries(Tensor z)
    {
        CheckLatent(z, Codebook.shape[1], "latent");
        using var scope = NewDisposeScope();
        var zBhwc = z.permute(0, 2, 3, 1).contiguous();
        var indices = NearestCodebookIndices(zBhwc.view(-1, Codebook.shape[1]), Codebook);
        var entries = Codebook.index_select(0, indices).view(zBhwc.shape);   // embedding lookup
        var zq = (zBhwc + (entries - zBhwc).detach()).permute(0, 3, 1, 2).contiguous();
        if (Remap is not null) indices = Remap.RemapToUsed(indices);
        return (zq.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// argmin over codebook entries of ||z||^2 + ||e||^2 - 2 z.e, the expansion taming uses
    /// (it decides exact ties and rounding the same way as the reference).
    /// </summary>
    public static Tensor NearestCodebookIndices(Tensor zFlat, Tensor codebook)
    {
        using var zz = zFlat.pow(2).sum(1, keepdim: true);
        using var ee = codebook.pow(2).sum(1);
        using var ze = torch.matmul(zFlat, codebook.t());
        using var d = zz + ee - 2 * ze;
        return d.argmin(1);
    }

    internal static void CheckLatent(Tensor z, long channels, string what)
    {
        if (z.dim() != 4 || z.shape[1] != channels)
            throw new ArgumentException($"Expected a {what} of shape [batch, {channels}, height, width], got [{string.Join(", ", z.shape)}].");
    }

    internal static long[] CheckEntryShape(Tensor indices, long[] shape, long embedDim)
    {
        if (shape.Length != 4)
            throw new ArgumentException($"Codebook entry shape must be (batch, height, width, channels), got ({string.Join(", ", shape)}).");
        if (shape[3] != embedDim)
            throw new ArgumentException($"Codebook entry shape's channel count {shape[3]} differs from embed_dim {embedDim}.");
        long count = shape[0] * shape[1] * shape[2];
        if (indices.numel() != count)
            throw new ArgumentException($"{indices.numel()} indices do not fill shape ({string.Join(", ", shape)}) = {count} entries.");
        return shape;
    }
}
