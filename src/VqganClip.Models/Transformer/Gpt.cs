using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// taming-transformers' minGPT (<c>taming/modules/transformer/mingpt.py</c>, class GPT) with its parameter names, so
/// state dicts map 1:1: <c>tok_emb</c> [V, E], <c>pos_emb</c> [1, block, E], <c>blocks.N.*</c> (<see cref="GptBlock"/>),
/// <c>ln_f</c> and <c>head</c> [V, E] (no bias). A new GPT is trainable (random weights as upstream's
/// <c>_init_weights</c>: normal(0, 0.02) for Linear and Embedding weights, zero biases, LayerNorm 1/0, pos_emb zeros;
/// in training mode); one loaded with <see cref="FromStateDict"/> is frozen and in eval mode.
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>
{
    /// <summary>Standard deviation of upstream's initial Linear and Embedding weights.</summary>
    public const double InitStd = 0.02;

#pragma warning disable IDE1006 // taming's attribute names
    private readonly Embedding tok_emb;
    private readonly Parameter pos_emb;
    private readonly Dropout drop;
    private readonly ModuleList<GptBlock> blocks;
    private readonly LayerNorm ln_f;
    private readonly Linear head;
#pragma warning restore IDE1006

    /// <summary>
    /// Builds a GPT for <paramref name="config"/> with upstream's initialisation, drawn from
    /// <paramref name="generator"/> (torch's global generator when null). Parameters require gradients and the
    /// module is in training mode, as a freshly built torch module.
    /// </summary>
    public Gpt(GptConfig config, Generator? generator = null, Device? device = null) : base("GPT")
    {
        ArgumentNullException.ThrowIfNull(config);
        TorchRuntime.EnsureInitialized();
        config.Validate();
        Config = config;

        tok_emb = nn.Embedding(config.VocabSize, config.NEmbd);
        pos_emb = new Parameter(torch.zeros(1, config.BlockSize, config.NEmbd));
        drop = nn.Dropout(config.EmbdPdrop);
        blocks = new ModuleList<GptBlock>(Enumerable.Range(0, config.NLayer).Select(_ => new GptBlock(config)).ToArray());
        ln_f = nn.LayerNorm(config.NEmbd, GptBlock.LayerNormEps);
        head = nn.Linear(config.NEmbd, config.VocabSize, hasBias: false);

        register_module("tok_emb", tok_emb);
        register_parameter("pos_emb", pos_emb);
        register_module("drop", drop);
        register_module("blocks", blocks);
        register_module("ln_f", ln_f);
        register_module("head", head);

        InitWeights(generator);
        train();
        if (device is not null && device.type != DeviceType.CPU) this.to(device);
    }

    /// <summary>The configuration the network was built from.</summary>
    public GptConfig Config { get; }

    /// <summary>The longest sequence the GPT reads (upstream's <c>get_block_size()</c>).</summary>
    public int BlockSize => Config.BlockSize;

    /// <summary>Vocabulary size (image codes and conditioning tokens together).</summary>
    public int VocabSize => Config.VocabSize;

    /// <summary>The device the weights live on.</summary>
    // pos_emb, not tok_emb.weight: TorchSharp's Embedding.weight getter makes a new tensor handle at every call
    public Device Device => pos_emb.device;

    /// <summary>The transformer blocks.</summary>
    public IList<GptBlock> Blocks => blocks;

    /// <summary>upstream's <c>_init_weights</c> applied to every module, and pos_emb zeros.</summary>
    private void InitWeights(Generator? generator)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    // Tensor.normal_, not nn.init.normal_: TorchSharp 0.107's init.normal_ ignores its generator
                    linear.weight.normal_(0.0, InitStd, generator);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                {
                    using var weight = embedding.weight!; // a new handle to the parameter
                    weight.normal_(0.0, InitStd, generator);
                    break;
                }
                case LayerNorm norm:
                    norm.weight.fill_(1.0f);
                    norm.bias?.zero_();
                    break;
            }
        }
        pos_emb.zero_();
    }

    /// <summary>Turns gradients of every parameter on (training) or off (inference, the state after loading).</summary>
    public void SetRequiresGrad(bool requiresGrad)
    {
        foreach (var parameter in parameters()) parameter.requires_grad = requiresGrad;
    }

    /// <summary>Logits [B, T, V] for token ids idx [B, T] (int64): upstream's <c>forward(idx)</c> without targets.</summary>
    public override Tensor forward(Tensor idx) => Forward(idx, null);

    /// <summary>
    /// Logits [B, Te + T, V] for token ids idx [B, T], with optional <paramref name="embeddings"/> [B, Te, E] prepended
    /// to the token embeddings as upstream allows; positions count from the first embedding.
    /// </summary>
    /// <exception cref="ArgumentException">Bad shapes, a token outside [0, vocab_size), or a sequence longer than block_size.</exception>
    public Tensor Forward(Tensor idx, Tensor? embeddings)
    {
        using var scope = torch.NewDisposeScope();
        var x = Embed(idx, embeddings, 0);
        foreach (var block in blocks) x = block.forward(x);
        return head.forward(ln_f.forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Upstream's <c>forward(idx, targets=targets)</c>: the logits and the mean cross-entropy of <paramref name="targets"/>
    /// [B, T] (int64, same shape as the logits' first two axes).
    /// </summary>
    public (Tensor Logits, Tensor Loss) ForwardWithLoss(Tensor idx, Tensor targets, Tensor? embeddings = null)
    {
        var logits = Forward(idx, embeddings);
        try
        {
            return (logits, CrossEntropy(logits, targets));
        }
        catch
        {
            logits.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>F.cross_entropy(logits.view(-1, V), targets.view(-1))</c>: mean over every position of logits [..., V] against
    /// integer targets with the same leading shape.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        long v = logits.shape[^1];
        if (targets.numel() * v != logits.numel())
            throw new ArgumentException($"Cross-entropy needs one target per logits row: logits [{string.Join(", ", logits.shape)}], targets [{string.Join(", ", targets.shape)}].", nameof(targets));
        using var scope = torch.NewDisposeScope();
        return torch.nn.functional.cross_entropy(logits.reshape(-1, v), targets.reshape(-1).to(ScalarType.Int64)).MoveToOuterDisposeScope();
    }

    /// <summary>An empty key/value cache for <paramref name="batch"/> sequences of up to <paramref name="capacity"/> positions (block_size when null).</summary>
    public GptKvCache CreateCache(long batch, int? capacity = null) =>
        new(Config, batch, capacity ?? Config.BlockSize, pos_emb.dtype, Device);

    /// <summary>
    /// mingpt's <c>forward_with_past</c>: logits [B, Tn, V] for new tokens idx [B, Tn] that follow the
    /// <c>cache.Length</c> positions already in <paramref name="cache"/>, whose keys and values are reused; the new
    /// positions' keys and values are added to it. Position embeddings continue at <c>pos_emb[cache.Length]</c>. The
    /// first call (empty cache) reads the whole prefix; later calls usually one token. Inference only (eval mode, no
    /// gradients), as upstream.
    /// </summary>
    public Tensor ForwardWithPast(Tensor idx, GptKvCache cache, Tensor? embeddings = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        if (training)
            throw new InvalidOperationException("ForwardWithPast is for inference: call eval() first (upstream asserts not self.training).");
        if (cache.Layers != Config.NLayer)
            throw new ArgumentException($"The cache has {cache.Layers} layers but the GPT {Config.NLayer}.", nameof(cache));
        if (idx.shape[0] != cache.BatchSize)
            throw new ArgumentException($"The cache was made for a batch of {cache.BatchSize}, the tokens have {idx.shape[0]} rows.", nameof(idx));

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        int past = cache.Length;
        var x = Embed(idx, embeddings, past);
        int count = (int)x.shape[1];
        if (past + count > cache.Capacity)
            throw new ArgumentException($"The cache holds {cache.Capacity} positions; {past} are used and {count} more do not fit.", nameof(idx));
        for (int i = 0; i < blocks.Count; i++) x = blocks[i].ForwardCached(x, cache, i);
        cache.Advance(count);
        return head.forward(ln_f.forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="ForwardWithPast(Tensor, GptKvCache, Tensor?)"/> with upstream's explicit <c>past_length</c>,
    /// which must equal <c>past.Length</c> (upstream asserts the presents' shape).
    /// </summary>
    public Tensor ForwardWithPast(Tensor idx, GptKvCache past, int pastLength)
    {
        ArgumentNullException.ThrowIfNull(past);
        if (pastLength != past.Length)
            throw new ArgumentException($"past_length {pastLength} does not match the {past.Length} positions in the cache.", nameof(pastLength));
        return ForwardWithPast(idx, past, (Tensor?)null);
    }

    /// <summary>drop(tok_emb(idx) [with embeddings prepended] + pos_emb[:, start : start + T]).</summary>
    private Tensor Embed(Tensor idx, Tensor? embeddings, int start)
    {
        ArgumentNullException.ThrowIfNull(idx);
        if (idx.dim() != 2)
            throw new ArgumentException($"The GPT reads token ids [batch, length], got [{string.Join(", ", idx.shape)}].", nameof(idx));
        if (idx.dtype != ScalarType.Int64)
            throw new ArgumentException($"Token ids must be int64, got {idx.dtype}.", nameof(idx));
        CheckTokens(idx, Config.VocabSize, "the GPT's");
        var tokens = tok_emb.forward(idx);
        if (embeddings is not null)
        {
            if (embeddings.dim() != 3 || embeddings.shape[0] != idx.shape[0] || embeddings.shape[2] != Config.NEmbd)
                throw new ArgumentException($"Prepended embeddings must be [{idx.shape[0]}, length, {Config.NEmbd}], got [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
            tokens = torch.cat(new[] { embeddings, tokens }, 1);
        }
        long t = tokens.shape[1];
        if (start + t > Config.BlockSize)
            throw new ArgumentException(
                $"Cannot forward {t} positions after {start}: {start + t} exceeds the GPT's block_size of {Config.BlockSize}.", nameof(idx));
        return drop.forward(tokens.add(pos_emb.narrow(1, start, t), HeldScalars.One));   // a held alpha: see HeldScalars
    }

    /// <summary>Throws, naming the first offending id, when a token id lies outside [0, <paramref name="vocabSize"/>).</summary>
    internal static void CheckTokens(Tensor ids, long vocabSize, string owner)
    {
        if (ids.numel() == 0) return;
        using var scope = torch.NewDisposeScope();
        var bad = ids.lt(0).logical_or(ids.ge(vocabSize));
        if (!bad.any().item<bool>()) return;
        long first = ids.masked_select(bad)[0].item<long>();
        throw new ArgumentOutOfRangeException(nameof(ids), first,
            $"Token id {first} is outside {owner} vocabulary [0, {vocabSize}).");
    }

    /// <summary>
    /// Upstream's optimizer grouping (Net2NetTransformer.configure_optimizers): weights of Linear layers get weight
    /// decay; biases, LayerNorm and Embedding weights and pos_emb do not. Names are this module's parameter names.
    /// </summary>
    public (IReadOnlyList<(string Name, Parameter Parameter)> Decay, IReadOnlyList<(string Name, Parameter Parameter)> NoDecay) OptimizerGroups()
    {
        var decay = new List<(string, Parameter)>();
        var noDecay = new List<(string, Parameter)>();
        // named_modules() leaves out the GPT itself, which owns pos_emb
        foreach (var (moduleName, module) in named_modules().Prepend(("", (nn.Module)this)))
        {
            foreach (var (name, parameter) in module.named_parameters(recurse: false))
            {
                var full = moduleName.Length == 0 ? name : $"{moduleName}.{name}";
                if (module is Linear && name == "weight") decay.Add((full, parameter));
                else noDecay.Add((full, parameter));
            }
        }
        return (decay, noDecay);
    }

    /// <summary>
    /// Builds a GPT from a state dict (its tensors are copied; the state dict stays the caller's): the tensors named
    /// <paramref name="prefix"/> + taming's names ("transformer." in a Net2NetTransformer checkpoint, "" for a bare
    /// GPT). With no <paramref name="config"/> the configuration is read from the weights (see
    /// <see cref="GptConfig.InferFromShapes"/>), which needs <paramref name="nHead"/>. The result is frozen and in eval
    /// mode, on <paramref name="device"/> (CPU when null).
    /// </summary>
    /// <exception cref="CheckpointFormatException">Tensors missing, or shapes that disagree with the configuration (the message names the tensor and both shapes).</exception>
    public static Gpt FromStateDict(StateDict stateDict, string prefix = "", GptConfig? config = null, int? nHead = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(prefix);
        TorchRuntime.EnsureInitialized();
        string path = stateDict.SourcePath ?? "(state dict in memory)";
        if (config is null)
        {
            var shapes = stateDict.Entries.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
            if (!GptConfig.TryInferFromShapes(shapes, prefix, nHead, stateDict.Describe(), out config, out var problem))
                throw new CheckpointFormatException(path, stateDict.Format, problem!);
            if (!GptWeights.TryReadUnmasked(stateDict, prefix, config!.BlockSize, out var nUnmasked, out problem))
                throw new CheckpointFormatException(path, stateDict.Format, problem!);
            config = config with { NUnmasked = nUnmasked };
        }
        var gpt = new Gpt(config!);
        try
        {
            GptWeights.Copy(stateDict, prefix, gpt, path);
            gpt.SetRequiresGrad(false);
            gpt.eval();
            if (device is not null && device.type != DeviceType.CPU) gpt.to(device);
            return gpt;
        }
        catch
        {
            gpt.Dispose();
            throw;
        }
    }
}
