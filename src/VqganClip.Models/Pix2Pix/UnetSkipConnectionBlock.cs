using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// upstream's <c>UnetSkipConnectionBlock</c> (models/networks.py): a down-sampling, the next block (recursively), an
/// up-sampling, and the skip connection cat([x, block(x)], 1). Its layers sit in a Sequential <c>model</c>, so the
/// state-dict names are upstream's:
/// <list type="bullet">
/// <item>outermost: 0 Conv(input_nc → ngf), 1 submodule, 2 ReLU, 3 ConvTranspose(2·ngf → output_nc, bias), 4 Tanh; no skip.</item>
/// <item>innermost: 0 LeakyReLU(0.2), 1 Conv, 2 ReLU, 3 ConvTranspose, 4 norm.</item>
/// <item>middle: 0 LeakyReLU, 1 Conv, 2 norm, 3 submodule, 4 ReLU, 5 ConvTranspose(2·inner → outer), 6 norm, 7 Dropout(0.5) where used.</item>
/// </list>
/// Convolutions are 4×4, stride 2, padding 1, with a bias only when the norm is not batch norm (or no norm follows).
/// The skip carries LeakyReLU(x), not x: upstream's LeakyReLU(0.2, inplace=True) overwrites the block's input before
/// torch.cat reads it, and published weights were trained with that; it is reproduced here.
/// </summary>
public sealed class UnetSkipConnectionBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Sequential model;
#pragma warning restore IDE1006
    private readonly bool _outermost;
    // Not Module-typed fields: TorchSharp would register those by reflection under their own names and the state
    // dict would gain duplicate entries. The modules themselves are registered once, inside model.
    private readonly Links _links;

    private sealed record Links(UnetSkipConnectionBlock? Inner, Pix2PixDropout? Dropout);

    /// <summary>Builds block <paramref name="depth"/> (0 = outermost) of <paramref name="config"/> and, recursively, the ones inside it.</summary>
    public UnetSkipConnectionBlock(UnetConfig config, int depth) : base("UnetSkipConnectionBlock")
    {
        _outermost = depth == 0;
        bool innermost = depth == config.NumDowns - 1;
        var (outerNc, innerNc) = config.BlockChannels(depth);
        int inputNc = _outermost ? config.InputNc : outerNc;
        bool useBias = config.Norm != Pix2PixNorm.Batch;
        var down = new Pix2PixConv2d(inputNc, innerNc, 4, 2, 1, useBias);
        Depth = depth;

        var layers = new List<nn.Module<Tensor, Tensor>>();
        UnetSkipConnectionBlock? inner = null;
        Pix2PixDropout? dropout = null;
        if (_outermost)
        {
            inner = new UnetSkipConnectionBlock(config, depth + 1);
            layers.AddRange([down, inner, nn.ReLU(), new Pix2PixConvTranspose2d(innerNc * 2, outerNc, 4, 2, 1, hasBias: true), nn.Tanh()]);
        }
        else if (innermost)
        {
            layers.AddRange([nn.LeakyReLU(0.2), down, nn.ReLU(), new Pix2PixConvTranspose2d(innerNc, outerNc, 4, 2, 1, useBias), Norm(config, outerNc)]);
        }
        else
        {
            inner = new UnetSkipConnectionBlock(config, depth + 1);
            layers.AddRange([nn.LeakyReLU(0.2), down, Norm(config, innerNc), inner, nn.ReLU(),
                new Pix2PixConvTranspose2d(innerNc * 2, outerNc, 4, 2, 1, useBias), Norm(config, outerNc)]);
            if (config.HasDropout(depth))
            {
                dropout = new Pix2PixDropout(0.5);
                layers.Add(dropout);
            }
        }
        _links = new Links(inner, dropout);
        model = nn.Sequential(layers);
        register_module("model", model);
    }

    /// <summary>0 = outermost.</summary>
    public int Depth { get; }

    /// <summary>The next block in (null for the innermost).</summary>
    public UnetSkipConnectionBlock? Inner => _links.Inner;

    /// <summary>This block's dropout (null when it has none).</summary>
    public Pix2PixDropout? Dropout => _links.Dropout;

    private static nn.Module<Tensor, Tensor> Norm(UnetConfig config, long channels) => config.Norm == Pix2PixNorm.Batch
        ? nn.BatchNorm2d(channels)
        : nn.InstanceNorm2d(channels);

    public override Tensor forward(Tensor x)
    {
        if (_outermost) return model.forward(x);
        using var scope = NewDisposeScope();
        // model's own LeakyReLU is out of place here, so the skip's in-place one is applied explicitly.
        return cat([F.leaky_relu(x, 0.2), model.forward(x)], 1).MoveToOuterDisposeScope();
    }
}
