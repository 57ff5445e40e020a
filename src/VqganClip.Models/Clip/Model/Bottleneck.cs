using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Clip;

/// <summary>
/// The reference's anti-aliased Bottleneck (expansion 4). All convolutions have stride 1; when stride > 1 an
/// AvgPool2d(stride) follows the second (3x3) convolution, and the downsample branch is
/// <c>Sequential("-1": AvgPool2d(stride), "0": Conv2d 1x1, "1": BatchNorm2d)</c> — the pool has no
/// parameters, so the state dict holds <c>downsample.0.*</c> and <c>downsample.1.*</c> only.
/// </summary>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    public const int Expansion = 4;

#pragma warning disable IDE1006 // reference parameter names
    public readonly Conv2d conv1;
    public readonly BatchNorm2d bn1;
    public readonly Conv2d conv2;
    public readonly BatchNorm2d bn2;
    public readonly nn.Module<Tensor, Tensor> avgpool;
    public readonly Conv2d conv3;
    public readonly BatchNorm2d bn3;
    public readonly Sequential? downsample;
#pragma warning restore IDE1006

    public Bottleneck(int inplanes, int planes, int stride = 1) : base(nameof(Bottleneck))
    {
        Stride = stride;
        conv1 = nn.Conv2d(inplanes, planes, kernel_size: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, kernel_size: 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        avgpool = stride > 1 ? nn.AvgPool2d(stride) : nn.Identity();
        conv3 = nn.Conv2d(planes, planes * Expansion, kernel_size: 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * Expansion);

        if (stride > 1 || inplanes != planes * Expansion)
        {
            downsample = nn.Sequential(
                ("-1", nn.AvgPool2d(stride)),
                ("0", nn.Conv2d(inplanes, planes * Expansion, kernel_size: 1, stride: 1, bias: false)),
                ("1", nn.BatchNorm2d(planes * Expansion)));
        }
        RegisterComponents();
    }

    public int Stride { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        // NarrowConvolution: a tiny model's bottleneck may have fewer than 16 planes, whose native backward is racy.
        var @out = F.relu(bn1.forward(NarrowConvolution.Forward(conv1, x)));
        @out = F.relu(bn2.forward(NarrowConvolution.Forward(conv2, @out)));
        @out = avgpool.forward(@out);
        @out = bn3.forward(NarrowConvolution.Forward(conv3, @out));
        var identity = downsample is null ? x : downsample.forward(x);
        @out = F.relu(@out + identity);
        return @out.MoveToOuterDisposeScope();
    }
}
