using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// openai/CLIP's <c>CLIP</c> module (clip/model.py) in TorchSharp: an image tower (<c>visual</c>: a
/// <see cref="VisionTransformer"/> or a <see cref="ModifiedResNet"/>) and a causal text transformer, with the
/// reference's parameter names so an OpenAI state dict maps 1:1.
/// <para>Always float32 (the reference converts to fp32 on CPU too). In eval mode with frozen parameters by
/// default: gradients flow to the inputs only. <see cref="SetTrainable"/> unfreezes them.</para>
/// </summary>
public sealed class ClipModel : nn.Module<Tensor, Tensor, (Tensor LogitsPerImage, Tensor LogitsPerText)>
{
    /// <summary>CLIP's preprocessing mean (RGB), from clip/clip.py's Normalize.</summary>
    public static readonly float[] PixelMean = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>CLIP's preprocessing std (RGB).</summary>
    public static readonly float[] PixelStd = [0.26862954f, 0.26130258f, 0.27577711f];

#pragma warning disable IDE1006 // reference parameter names
    public readonly nn.Module<Tensor, Tensor> visual;
    public readonly Transformer transformer;
    public readonly Embedding token_embedding;
    public readonly Parameter positional_embedding;
    public readonly LayerNorm ln_final;
    public readonly Parameter text_projection;
    public readonly Parameter logit_scale;
#pragma warning restore IDE1006

    static ClipModel() => TorchRuntime.EnsureInitialized();

    /// <summary>A CLIP with the reference's random initialization (initialize_parameters), frozen, in eval mode.</summary>
    public ClipModel(ClipConfig config, Device? device = null) : base(nameof(ClipModel))
    {
        Config = config.Validate();

        visual = config.IsResNet
            ? new ModifiedResNet(config.VisionResNetLayers!, config.EmbedDim, config.VisionHeads, config.ImageResolution, config.VisionWidth)
            : new VisionTransformer(config.ImageResolution, config.VisionPatchSize, config.VisionWidth, config.VisionLayers,
                config.VisionHeads, config.EmbedDim, config.VisionActivation, config.VisionLayerNormEps);

        transformer = new Transformer(config.TransformerWidth, config.TransformerLayers, config.TransformerHeads, causal: true,
            config.TextActivation, config.TextLayerNormEps);
        token_embedding = nn.Embedding(config.VocabSize, config.TransformerWidth);
        positional_embedding = new Parameter(torch.empty(config.ContextLength, config.TransformerWidth));
        ln_final = new LayerNorm(config.TransformerWidth, config.TextLayerNormEps);
        text_projection = new Parameter(torch.empty(config.TransformerWidth, config.EmbedDim));
        logit_scale = new Parameter(torch.tensor(MathF.Log(1 / 0.07f)));
        RegisterComponents();

        InitializeParameters();
        SetTrainable(false);
        eval();
        if (device is not null && device.type != DeviceType.CPU)
            this.to(device);
    }

    public ClipConfig Config { get; }

    /// <summary>Side length of the square input images.</summary>
    public int ImageSize => Config.ImageResolution;

    /// <summary>Token sequence length the text tower expects (77 for every published model).</summary>
    public int ContextLength => Config.ContextLength;

    /// <summary>Width of the joint image/text embedding.</summary>
    public int EmbedDim => Config.EmbedDim;

    /// <summary>The temperature the logits are multiplied by: <c>exp(logit_scale)</c> (100 for trained models).</summary>
    public float LogitScale
    {
        get
        {
            using var _ = torch.no_grad();
            using var scale = logit_scale.exp();
            return scale.item<float>();
        }
    }

    /// <summary>The device the parameters live on.</summary>
    public Device Device => token_embedding.weight!.device;

    /// <summary>Loads any supported CLIP checkpoint (see <see cref="ClipLoader"/>).</summary>
    public static ClipModel Load(string path, Device? device = null, ClipLoadOptions? options = null) =>
        ClipLoader.Load(path, device, options);

    /// <summary>Freezes (default) or unfreezes every parameter. Stays in eval mode either way: the
    /// ResNet's BatchNorm statistics are never updated by this class.</summary>
    public ClipModel SetTrainable(bool trainable)
    {
        foreach (var p in parameters())
            p.requires_grad = trainable;
        return this;
    }

    /// <summary>Whether the parameters currently require gradients.</summary>
    public bool IsTrainable => parameters().Any(p => p.requires_grad);

    /// <summary><c>(pixels01 - mean) / std</c> with CLIP's constants; [N,3,H,W] or [3,H,W] in [0,1].</summary>
    public Tensor Normalize(Tensor pixels01) => Normalize01(pixels01);

    /// <summary>Static form of <see cref="Normalize"/>.</summary>
    public static Tensor Normalize01(Tensor pixels01)
    {
        if (pixels01.dim() is not (3 or 4) || pixels01.shape[^3] != 3)
            throw new ArgumentException($"CLIP Normalize expects [N,3,H,W] or [3,H,W] pixels, got [{string.Join(",", pixels01.shape)}].", nameof(pixels01));
        if (!pixels01.is_floating_point())
            throw new ArgumentException($"CLIP Normalize expects floating-point pixels in [0,1], got {pixels01.dtype} (divide bytes by 255 first).", nameof(pixels01));
        using var scope = torch.NewDisposeScope();
        var mean = torch.tensor(PixelMean, dtype: pixels01.dtype, device: pixels01.device).view(3, 1, 1);
        var std = torch.tensor(PixelStd, dtype: pixels01.dtype, device: pixels01.device).view(3, 1, 1);
        return ((pixels01 - mean) / std).MoveToOuterDisposeScope();
    }

    /// <summary>The reference's encode_image: [N,3,R,R] normalized pixels -> [N, EmbedDim] unnormalized features.</summary>
    public Tensor EncodeImage(Tensor pixelsNormalized)
    {
        var s = pixelsNormalized.shape;
        if (s.Length != 4 || s[1] != 3 || s[2] != ImageSize || s[3] != ImageSize)
            throw new ArgumentException(
                $"CLIP EncodeImage expects normalized images [N,3,{ImageSize},{ImageSize}], got [{string.Join(",", s)}]. " +
                "Resize/crop first (ClipPreprocess) and apply Normalize.", nameof(pixelsNormalized));
        using var scope = torch.NewDisposeScope();
        var x = pixelsNormalized.to(ScalarType.Float32, Device);
        return visual.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The reference's encode_text: tokens [N, ContextLength] (int64; other integer types are converted) ->
    /// [N, EmbedDim]. Pools the feature at each row's end-of-text token, found as the argmax of the token ids
    /// (EOT has the highest id of the vocabulary), exactly as the reference does.
    /// </summary>
    public Tensor EncodeText(Tensor tokens)
    {
        var s = tokens.shape;
        if (s.Length != 2 || s[1] != ContextLength)
            throw new ArgumentException($"CLIP EncodeText expects tokens [N,{ContextLength}], got [{string.Join(",", s)}].", nameof(tokens));
        if (tokens.is_floating_point() || tokens.dtype == ScalarType.Bool)
            throw new ArgumentException($"CLIP EncodeText expects integer token ids, got {tokens.dtype}.", nameof(tokens));

        using var scope = torch.NewDisposeScope();
        var text = tokens.to(ScalarType.Int64, Device);
        var x = token_embedding.forward(text) + positional_embedding;   // [N, L, width]
        x = transformer.forward(x);
        x = ln_final.forward(x);
        var eot = text.argmax(-1);
        var rows = torch.arange(text.shape[0], dtype: ScalarType.Int64, device: text.device);
        var pooled = x.index(TensorIndex.Tensor(rows), TensorIndex.Tensor(eot)); // [N, width]
        return torch.matmul(pooled, text_projection).MoveToOuterDisposeScope();
    }

    /// <summary>The reference's forward: cosine similarities scaled by exp(logit_scale).</summary>
    public (Tensor LogitsPerImage, Tensor LogitsPerText) Forward(Tensor images, Tensor tokens) => forward(images, tokens);

    public override (Tensor LogitsPerImage, Tensor LogitsPerText) forward(Tensor images, Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var imageFeatures = EncodeImage(images);
        var textFeatures = EncodeText(tokens);
        imageFeatures = imageFeatures / imageFeatures.norm(-1, keepdim: true);
        textFeatures = textFeatures / textFeatures.norm(-1, keepdim: true);
        var logitsPerImage = logit_scale.exp() * torch.matmul(imageFeatures, textFeatures.t());
        var logitsPerText = logitsPerImage.t();
        return (logitsPerImage.MoveToOuterDisposeScope(), logitsPerText.MoveToOuterDisposeScope());
    }

    /// <summary>The reference's initialize_parameters (after torch's default per-layer init).</summary>
    private void InitializeParameters()
    {
        using var _ = torch.no_grad();
        nn.init.normal_(token_embedding.weight!, std: 0.02);
        nn.init.normal_(positional_embedding, std: 0.01);

        if (visual is ModifiedResNet resnet)
        {
            double std = Math.Pow(resnet.attnpool.c_proj.in_features, -0.5);
            nn.init.normal_(resnet.attnpool.q_proj.weight!, std: std);
            nn.init.normal_(resnet.attnpool.k_proj.weight!, std: std);
            nn.init.normal_(resnet.attnpool.v_proj.weight!, std: std);
            nn.init.normal_(resnet.attnpool.c_proj.weight!, std: std);

            foreach (var stage in new[] { resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4 })
                foreach (var (name, param) in stage.named_parameters())
                    if (name.EndsWith("bn3.weight", StringComparison.Ordinal))
                        param.zero_();
        }

        double width = transformer.Width;
        double projStd = Math.Pow(width, -0.5) * Math.Pow(2 * Math.Max(1, transformer.Layers), -0.5);
        double attnStd = Math.Pow(width, -0.5);
        double fcStd = Math.Pow(2 * width, -0.5);
        foreach (var block in transformer.resblocks)
        {
            nn.init.normal_(block.attn.in_proj_weight, std: attnStd);
            nn.init.normal_(block.attn.out_proj.weight!, std: projStd);
            foreach (var (name, param) in block.mlp.named_parameters())
            {
                if (name == "c_fc.weight") nn.init.normal_(param, std: fcStd);
                else if (name == "c_proj.weight") nn.init.normal_(param, std: projStd);
            }
        }
        nn.init.normal_(text_projection, std: Math.Pow(width, -0.5));
    }
}
