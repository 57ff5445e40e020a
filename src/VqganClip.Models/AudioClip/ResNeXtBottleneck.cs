using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// upstream <c>Bottleneck</c> (model/esresnet/base.py, torchvision's): conv1 1×1 → width, conv2 3×3 grouped with the
/// stride, conv3 1×1 → out, each with batch norm (<c>bn1..bn3</c>), ReLU between, and the residual through
/// <c>downsample</c> = Sequential(<c>0</c>: 1×1 conv with the stride, <c>1</c>: batch norm) when the shape changes.
/// Unlike CLIP's anti-aliased Bottleneck, the stride sits in the convolutions (no average pool).
/// </summary>
public sealed class ResNeXtBottleneck : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // reference parameter names
    public readonly Conv2d conv1;
    public readonly BatchNorm2d bn1;
    public readonly Conv2d conv2;
    public readonly BatchNorm2d bn2;
    public readonly Conv2d conv3;
    public readonly BatchNorm2d bn3;
    public readonly Sequential? downsample;
#pragma warning restore IDE1006

    public ResNeXtBottleneck(int inplanes, int width, int outplanes, int groups, int stride, bool withDownsample) : base("Bottleneck")
    {
        conv1 = nn.Conv2d(inplanes, width, 1, bias: false);
        bn1 = nn.BatchNorm2d(width);
        conv2 = nn.Conv2d(width, width, 3, stride: stride, padding: 1, groups: groups, bias: false);
        bn2 = nn.BatchNorm2d(width);
        conv3 = nn.Conv2d(width, outplanes, 1, bias: false);
        bn3 = nn.BatchNorm2d(outplanes);
        if (withDownsample)
            downsample = nn.Sequential(("0", nn.Conv2d(inplanes, outplanes, 1, stride: stride, bias: false)), ("1", nn.BatchNorm2d(outplanes)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = F.relu(bn1.forward(NarrowConvolution.Forward(conv1, x)));
        y = F.relu(bn2.forward(conv2.forward(y))); // grouped: NarrowConvolution does not apply
        y = bn3.forward(NarrowConvolution.Forward(conv3, y));
        var identity = downsample is null ? x : downsample.forward(x);
        return F.relu(y + identity).MoveToOuterDisposeScope();
    }
}
