using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>
/// The reference's VisionTransformer: a patch convolution <c>conv1</c> (stride = patch, no bias), a learned
/// <c>class_embedding</c> prepended to the patch tokens, <c>positional_embedding</c> [grid²+1, width],
/// <c>ln_pre</c>, the <c>transformer</c>, <c>ln_post</c> on the class token and the projection <c>proj</c> [width, output_dim]
/// applied as <c>x @ proj</c> (a plain matrix, not a Linear: note the orientation).
/// </summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // reference parameter names
    public readonly Conv2d conv1;
    public readonly Parameter class_embedding;
    public readonly Parameter positional_embedding;
    public readonly LayerNorm ln_pre;
    public readonly Transformer transformer;
    public readonly LayerNorm ln_post;
    public readonly Parameter proj;
#pragma warning restore IDE1006

    public VisionTransformer(int inputResolution, int patchSize, int width, int layers, int heads, int outputDim,
        ClipActivation activation = ClipActivation.QuickGelu, double eps = 1e-5) : base(nameof(VisionTransformer))
    {
        InputResolution = inputResolution;
        OutputDim = outputDim;
        conv1 = nn.Conv2d(3, width, kernel_size: patchSize, stride: patchSize, bias: false);

        // Reference init: scale * randn with scale = width^-0.5.
        double scale = Math.Pow(width, -0.5);
        long grid = inputResolution / patchSize;
        class_embedding = new Parameter(torch.randn(width).mul_(scale));
        positional_embedding = new Parameter(torch.randn(grid * grid + 1, width).mul_(scale));
        ln_pre = new LayerNorm(width, eps);
        transformer = new Transformer(width, layers, heads, causal: false, activation, eps);
        ln_post = new LayerNorm(width, eps);
        proj = new Parameter(torch.randn(width, outputDim).mul_(scale));
        RegisterComponents();
    }

    public int InputResolution { get; }
    public int OutputDim { get; }

    /// <param name="x">[N, 3, R, R] normalized pixels.</param>
    /// <returns>[N, output_dim] image features (not normalized).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        x = conv1.forward(x);                                   // [N, width, grid, grid]
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1); // [N, grid², width]
        var cls = class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[2], dtype: x.dtype, device: x.device);
        x = torch.cat([cls, x], dim: 1);                         // [N, grid²+1, width]
        x = x + positional_embedding.to(x.dtype);
        x = ln_pre.forward(x);
        // Only the class token is read after the transformer, so its last block runs for that token alone.
        x = transformer.ForwardFirstToken(x);                   // [N, 1, width]
        x = ln_post.forward(x[.., 0, ..]);
        x = torch.matmul(x, proj);
        return x.MoveToOuterDisposeScope();
    }
}
