using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// upstream's <c>init_weights(net, init_type='normal', init_gain=0.02)</c>: every convolution (and transposed one)
/// weight ~ N(0, gain), bias 0; every BatchNorm2d weight ~ N(1, gain), bias 0. Draws from torch's global generator
/// (seed it with TorchRuntime.Seed for a reproducible network).
/// </summary>
public static class Pix2PixInit
{
    public const double Gain = 0.02;

    public static void InitWeights(nn.Module network, double gain = Gain)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var _ = no_grad();
        foreach (var (_, module) in network.named_modules())
        {
            switch (module)
            {
                case Pix2PixConv2d conv:
                    conv.Weight.normal_(0.0, gain);
                    conv.Bias?.zero_();
                    break;
                case Pix2PixConvTranspose2d conv:
                    conv.Weight.normal_(0.0, gain);
                    conv.Bias?.zero_();
                    break;
                case BatchNorm2d norm:
                    norm.weight!.normal_(1.0, gain);
                    norm.bias!.zero_();
                    break;
            }
        }
    }
}
