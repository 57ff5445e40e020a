using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.BigGan;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// The PatchGAN discriminator's shape (upstream networks.define_D, netD <c>basic</c> = n_layers 3 or <c>n_layers</c>):
/// pix2pix's is conditional, so <paramref name="InputNc"/> = input_nc + output_nc (6). <paramref name="UseSigmoid"/>:
/// a final Sigmoid (upstream before 2018, with BCELoss; the current code leaves it out and uses BCEWithLogits).
/// </summary>
public sealed record PatchGanConfig(int InputNc = 6, int Ndf = 64, int NLayers = 3, Pix2PixNorm Norm = Pix2PixNorm.Batch, bool UseSigmoid = false)
{
    public void Validate()
    {
        if (InputNc < 1 || Ndf < 1) throw new ArgumentException($"PatchGAN channels must be positive (input_nc {InputNc}, ndf {Ndf}).");
        if (NLayers < 1 || NLayers > 8) throw new ArgumentException($"PatchGAN n_layers must be 1..8, got {NLayers}.");
    }

    public JsonObject ToJson() => new()
    {
        ["netD"] = "n_layers",
        ["input_nc"] = InputNc,
        ["ndf"] = Ndf,
        ["n_layers"] = NLayers,
        ["norm"] = Norm.Name(),
        ["use_sigmoid"] = UseSigmoid,
    };
}

/// <summary>
/// upstream's <c>NLayerDiscriminator</c> (models/networks.py), the PatchGAN: <c>model</c> = Sequential
/// 0 Conv(input_nc → ndf, 4×4/2, bias), 1 LeakyReLU(0.2); for n = 1..n_layers−1: Conv(ndf·min(2^(n−1),8) → ndf·min(2^n,8),
/// 4×4/2, no bias with batch norm), norm, LeakyReLU; then the same at stride 1 (ndf·min(2^n_layers, 8)); then
/// Conv(→ 1, 4×4/1, bias) [+ Sigmoid]. Keys <c>model.0</c>, <c>model.2</c>, <c>model.3</c>, ... as upstream's. n_layers 3
/// sees 70×70 patches; a 64-px pair gives a 6×6 map. Built frozen in eval mode with init_weights, like
/// <see cref="UnetGenerator"/>.
/// </summary>
public sealed class NLayerDiscriminator : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Sequential model;
#pragma warning restore IDE1006

    public NLayerDiscriminator(PatchGanConfig config) : base(nameof(NLayerDiscriminator))
    {
        ArgumentNullException.ThrowIfNull(config);
        TorchRuntime.EnsureInitialized();
        config.Validate();
        Config = config;
        bool useBias = config.Norm != Pix2PixNorm.Batch;
        int ndf = config.Ndf;
        var layers = new List<nn.Module<Tensor, Tensor>> { new Pix2PixConv2d(config.InputNc, ndf, 4, 2, 1, true), nn.LeakyReLU(0.2) };
        int multiplier = 1;
        for (int n = 1; n <= config.NLayers; n++)
        {
            int previous = multiplier;
            multiplier = Math.Min(1 << n, 8);
            int stride = n < config.NLayers ? 2 : 1;
            layers.Add(new Pix2PixConv2d(ndf * previous, ndf * multiplier, 4, stride, 1, useBias));
            layers.Add(config.Norm == Pix2PixNorm.Batch ? nn.BatchNorm2d(ndf * multiplier) : nn.InstanceNorm2d(ndf * multiplier));
            layers.Add(nn.LeakyReLU(0.2));
        }
        layers.Add(new Pix2PixConv2d(ndf * multiplier, 1, 4, 1, 1, true));
        if (config.UseSigmoid) layers.Add(nn.Sigmoid());
        model = nn.Sequential(layers);
        register_module("model", model);
        ModuleTensors.DetachFromDisposeScopes(this);
        Pix2PixInit.InitWeights(this);
        foreach (var parameter in parameters()) parameter.requires_grad = false;
        eval();
    }

    public PatchGanConfig Config { get; }

    /// <summary>Patch scores [B, 1, h, w] (logits, or probabilities with UseSigmoid) of input [B, input_nc, H, W] (pix2pix: cat(A, B)).</summary>
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 4 || x.shape[1] != Config.InputNc)
            throw new ArgumentException($"The PatchGAN expects [batch, {Config.InputNc}, H, W] (pix2pix: cat(A, B)), got [{string.Join(", ", x.shape)}].", nameof(x));
        return model.forward(x);
    }

    /// <summary>Copies a discriminator state dict (keys <c>model.N.*</c> after <paramref name="prefix"/>) into this network, checked like the generator's.</summary>
    public void LoadStateDict(StateDict stateDict, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var names = stateDict.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k[prefix.Length..]).ToList();
        Pix2PixWeights.Copy(n => stateDict.TryGetValue(prefix + n, out var t) ? t : null, names, this,
            stateDict.SourcePath ?? "(state dict in memory)", stateDict.Format, $"the PatchGAN (ndf {Config.Ndf}, n_layers {Config.NLayers})",
            Config.Norm == Pix2PixNorm.Instance);
    }
}
