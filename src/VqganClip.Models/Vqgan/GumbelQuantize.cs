using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// taming's <c>GumbelQuantize</c> (used by GumbelVQ): <c>proj</c>, a 1x1 conv from num_hiddens
/// (z_channels) to n_embed logits, and the codebook <c>embed</c> [n_embed, embedding_dim].
/// z_q = one_hot @ embed, einsum('b n h w, n d -> b d h w').
/// <para>
/// Sampling: taming always calls F.gumbel_softmax, which adds Gumbel noise even in eval mode (hard
/// one-hot then). Here the default is its noise-free limit — the hard one-hot of argmax(logits),
/// with the softmax(logits / temperature) straight-through gradient — so encoding is deterministic;
/// pass <c>sampleNoise: true</c> for the reference's stochastic behaviour.
/// </para>
/// </summary>
public sealed class GumbelQuantize : Quantizer
{
    private readonly Conv2d proj;
    private readonly Embedding embed;
    private readonly Tensor? used;

    public GumbelQuantize(int numHiddens, int embeddingDim, int nEmbed, double klWeight = 5e-4,
        double temperature = 1.0, IndexRemap? remap = null) : base(nameof(GumbelQuantize))
    {
        NumHiddens = numHiddens;
        EmbeddingDim = embeddingDim;
        NEmbed = nEmbed;
        KlWeight = klWeight;
        Temperature = temperature;
        proj = VqganLayers.Conv1x1(numHiddens, nEmbed);
        embed = nn.Embedding(nEmbed, embeddingDim);
        register_module("proj", proj);
        register_module("embed", embed);
        Remap = remap;
        if (remap is not null)
        {
            used = tensor(remap.Used.ToArray(), dtype: ScalarType.Int64);
            register_buffer("used", used);
        }
    }

    public int NumHiddens { get; }
    public int EmbeddingDim { get; }
    public int NEmbed { get; }
    public double KlWeight { get; }

    /// <summary>Softmax temperature (taming's <c>temperature</c>, annealed during training).</summary>
    public double Temperature { get; set; }

    public override Tensor Codebook => embed.weight!;

    public override QuantizerOutput Forward(Tensor z, bool computeLoss = true) => Forward(z, null, sampleNoise: false, computeLoss);

    /// <summary>
    /// taming's forward in hard mode. Indices come back [b, h, w] (remapped when a remap is set), as in taming.
    /// </summary>
    public QuantizerOutput Forward(Tensor z, double? temperature, bool sampleNoise, bool computeLoss = true)
    {
        CheckLatent(z, NumHiddens, "pre-quantization latent");
        double tau = temperature ?? Temperature;
        using var scope = NewDisposeScope();
        var logits = proj.forward(z);
        var fullLogits = logits;
        long[]? usedIndex = Remap?.Used.ToArray();
        if (usedIndex is not null)
            // continue only with the used codes' logits, as taming does
            logits = logits.index_select(1, tensor(usedIndex, device: logits.device));

        var noisy = logits;
        if (sampleNoise)
        {
            // Gumbel(0,1) noise, as F.gumbel_softmax draws it: -log(Exponential(1)).
            var gumbels = -torch.empty_like(logits).exponential_().log();
            noisy = logits + gumbels;
        }
        var soft = nn.functional.softmax(noisy / tau, dim: 1);
        var argmax = soft.argmax(1, keepdim: true);
        var hard = torch.zeros_like(soft).scatter_(1, argmax, 1.0);
        // hard one-hot forward, softmax gradient backward (F.gumbel_softmax(hard=True)).
        var oneHot = hard - soft.detach() + soft;
        if (usedIndex is not null)
        {
            var full = torch.zeros_like(fullLogits);
            full.index_copy_(1, tensor(usedIndex, device: logits.device), oneHot);
            oneHot = full;
        }
        var zq = torch.einsum("bnhw,nd->bdhw", oneHot, Codebook);

        Tensor? loss = null;
        if (computeLoss)
        {
            var qy = nn.functional.softmax(logits, dim: 1);
            loss = KlWeight * (qy * (qy * NEmbed + 1e-10).log()).sum(1).mean();
        }

        var indices = oneHot.argmax(1);
        if (Remap is not null) indices = Remap.RemapToUsed(indices);
        return new QuantizerOutput(zq.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope());
    }

    public override Tensor GetCodebookEntry(Tensor indices, long[] shape)
    {
        CheckEntryShape(indices, shape, EmbeddingDim);
        using var scope = NewDisposeScope();
        var bhw = indices.reshape(shape[0], shape[1], shape[2]).to(ScalarType.Int64);
        if (Remap is not null) bhw = Remap.UnmapToAll(bhw);
        VectorQuantizer.CheckRange(bhw, NEmbed);
        var oneHot = nn.functional.one_hot(bhw, NEmbed).permute(0, 3, 1, 2).to(ScalarType.Float32);
        var zq = torch.einsum("bnhw,nd->bdhw", oneHot, Codebook.to(ScalarType.Float32));
        return zq.MoveToOuterDisposeScope();
    }
}
