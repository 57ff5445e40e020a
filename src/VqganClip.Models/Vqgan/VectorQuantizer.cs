using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// taming's <c>VectorQuantizer2</c> (what VQModel imports as VectorQuantizer): codebook
/// <c>embedding</c> [n_e, e_dim]; each latent vector takes its nearest entry (squared euclidean,
/// expanded as ||z||^2 + ||e||^2 - 2 z.e); the output is z + (z_q - z).detach() so gradients pass
/// straight through to z. With a remap the returned indices are positions in <c>used</c>
/// (the <c>used</c> buffer is registered under that name, as taming does, so it round-trips).
/// </summary>
public sealed class VectorQuantizer : Quantizer
{
    private readonly Embedding embedding;
    private readonly Tensor? used;

    public VectorQuantizer(int nEmbed, int embedDim, double beta = 0.25, bool legacy = true,
        IndexRemap? remap = null, bool saneIndexShape = false) : base(nameof(VectorQuantizer))
    {
        NEmbed = nEmbed;
        EmbedDim = embedDim;
        Beta = beta;
        Legacy = legacy;
        SaneIndexShape = saneIndexShape;
        embedding = nn.Embedding(nEmbed, embedDim);
        using (no_grad())
            // taming initialises the codebook uniform in [-1/n_e, 1/n_e].
            embedding.weight!.uniform_(-1.0 / nEmbed, 1.0 / nEmbed);
        register_module("embedding", embedding);
        Remap = remap;
        if (remap is not null)
        {
            used = tensor(remap.Used.ToArray(), dtype: ScalarType.Int64);
            register_buffer("used", used);
        }
    }

    public int NEmbed { get; }
    public int EmbedDim { get; }
    public double Beta { get; }
    public bool Legacy { get; }
    public bool SaneIndexShape { get; }

    public override Tensor Codebook => embedding.weight!;

    public override QuantizerOutput Forward(Tensor z, bool computeLoss = true)
    {
        CheckLatent(z, EmbedDim, "pre-quantization latent");
        using var scope = NewDisposeScope();
        long b = z.shape[0], h = z.shape[2], w = z.shape[3];
        var zBhwc = z.permute(0, 2, 3, 1).contiguous();
        var indices = NearestCodebookIndices(zBhwc.view(-1, EmbedDim), Codebook);
        var entries = embedding.forward(indices).view(zBhwc.shape);

        Tensor? loss = null;
        if (computeLoss)
        {
            var toCodebook = (entries.detach() - zBhwc).pow(2).mean();
            var toEncoder = (entries - zBhwc.detach()).pow(2).mean();
            // taming's legacy (default) variant applies beta to the codebook term: kept for fidelity.
            loss = Legacy ? toCodebook + Beta * toEncoder : Beta * toCodebook + toEncoder;
        }

        var zq = (zBhwc + (entries - zBhwc).detach()).permute(0, 3, 1, 2).contiguous();
        if (Remap is not null) indices = Remap.RemapToUsed(indices.reshape(b, -1)).reshape(-1);
        if (SaneIndexShape) indices = indices.reshape(b, h, w);

        var output = new QuantizerOutput(zq.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope());
        return output;
    }

    public override Tensor GetCodebookEntry(Tensor indices, long[] shape)
    {
        CheckEntryShape(indices, shape, EmbedDim);
        using var scope = NewDisposeScope();
        var flat = indices.reshape(-1).to(ScalarType.Int64);
        if (Remap is not null) flat = Remap.UnmapToAll(flat.reshape(shape[0], -1)).reshape(-1);
        CheckRange(flat, NEmbed);
        var zq = embedding.forward(flat).view(shape).permute(0, 3, 1, 2).contiguous();
        return zq.MoveToOuterDisposeScope();
    }

    internal static void CheckRange(Tensor indices, long size)
    {
        if (indices.numel() == 0) return;
        long min = indices.min().item<long>(), max = indices.max().item<long>();
        if (min < 0 || max >= size)
            throw new ArgumentOutOfRangeException(nameof(indices), $"Codebook indices must lie in [0, {size}); got values from {min} to {max}.");
    }
}
