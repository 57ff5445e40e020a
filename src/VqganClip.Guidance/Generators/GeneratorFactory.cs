using System.Globalization;
using TorchSharp;
using VqganClip.Models.BigGan;
using VqganClip.Models.StyleGan2;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Generators;

/// <summary>What is needed to rebuild a generator: its name, size and settings (its parameters come from a state dict).</summary>
public sealed record GeneratorSpec(string Name, int Width, int Height, IReadOnlyDictionary<string, string> Settings)
{
    public static GeneratorSpec Of(IImageGenerator g) => new(g.Name, g.Width, g.Height, new Dictionary<string, string>(g.Settings));
}

/// <summary>Builds the built-in generators by name (the command line's <c>--generator</c> and resuming saved runs).</summary>
public static class GeneratorFactory
{
    public static IReadOnlyList<string> Names { get; } = new[] { "vqgan", "pixels", "fourier", "strokes", BigSleepGenerator.GeneratorName, StyleGanGenerator.GeneratorName };

    /// <summary>Creates a built-in generator from a spec; <paramref name="vqgan"/> is required for "vqgan", <paramref name="biggan"/> for "biggan".</summary>
    public static IImageGenerator Create(GeneratorSpec spec, VqganModel? vqgan = null, Device? device = null, BigGanModel? biggan = null, StyleGan2Model? stylegan = null)
    {
        string S(string key, string dflt) => spec.Settings.TryGetValue(key, out var v) ? v : dflt;
        double D(string key, double dflt) => double.Parse(S(key, dflt.ToString("R", CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        int I(string key, int dflt) => int.Parse(S(key, dflt.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        switch (spec.Name.ToLowerInvariant())
        {
            case "vqgan":
                if (vqgan is null) throw new ArgumentException("The vqgan generator needs a VQGAN model (a checkpoint given to the command, or a VqganModel when resuming in code).", nameof(vqgan));
                return new VqganLatentGenerator(vqgan, spec.Width, spec.Height,
                    Enum.Parse<LatentInit>(S("init", nameof(LatentInit.RandomCodes)), ignoreCase: true),
                    clampToCodebookRange: bool.Parse(S("clampToCodebookRange", "true")),
                    snapToCodebook: bool.Parse(S("snapToCodebook", "true")));
            case "pixels":
                return new PixelGenerator(spec.Width, spec.Height,
                    Enum.Parse<PixelParameterization>(S("parameterization", nameof(PixelParameterization.Sigmoid)), ignoreCase: true), device: device);
            case "fourier":
                return new FourierGenerator(spec.Width, spec.Height, D("decayPower", 1.0), D("initStd", 0.01), device);
            case "strokes":
                var bg = S("background", "1,1,1").Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                return new StrokeGenerator(spec.Width, spec.Height, I("strokes", 32), I("samplesPerStroke", 16), D("softness", 0.75), bg, device);
            case BigSleepGenerator.GeneratorName:
                if (biggan is null) throw new ArgumentException("The biggan generator needs a BigGAN model (a file given to the command, or a BigGanModel when resuming in code).", nameof(biggan));
                if (biggan.ImageSize != spec.Width || biggan.ImageSize != spec.Height)
                    throw new ArgumentException($"The saved biggan run drew {spec.Width}x{spec.Height} pictures but this BigGAN draws {biggan.ImageSize}x{biggan.ImageSize}: resume it with the same model.", nameof(biggan));
                var maxClasses = S("maxClasses", "");
                // a spec without the key gets Big Sleep's command-line average; an empty value means none
                var emaDecay = S("emaDecay", Guidance.BigSleep.BigSleepDefaults.CliEmaDecay.ToString("R", CultureInfo.InvariantCulture));
                return new BigSleepGenerator(biggan,
                    maxClasses.Length == 0 ? null : int.Parse(maxClasses, CultureInfo.InvariantCulture),
                    emaDecay.Length == 0 ? null : double.Parse(emaDecay, CultureInfo.InvariantCulture), device)
                {
                    // the start itself is in the saved state; this says how it was chosen
                    StartChoice = BigSleepGenerator.ParseStartChoice(S("start", "")),
                };
            case StyleGanGenerator.GeneratorName:
                if (stylegan is null) throw new ArgumentException("The stylegan generator needs a StyleGAN2 model (a file given to the command, or a StyleGan2Model when resuming in code).", nameof(stylegan));
                if (stylegan.ImageSize != spec.Width || stylegan.ImageSize != spec.Height)
                    throw new ArgumentException($"The saved stylegan run drew {spec.Width}x{spec.Height} pictures but this StyleGAN2 draws {stylegan.ImageSize}x{stylegan.ImageSize}: resume it with the same model.", nameof(stylegan));
                // the start itself is in the saved state (start.NN); Latent needs no file to be rebuilt
                var start = Enum.Parse<StyleGanStart>(S("start", "seed"), ignoreCase: true);
                using (var placeholder = start == StyleGanStart.Latent ? zeros(1, stylegan.NLatent, stylegan.StyleDim) : null)
                    return new StyleGanGenerator(stylegan, start, placeholder, D("l2Lambda", 0.008), bool.Parse(S("styleSpace", "false")), D("truncation", 0.7), device);
            default:
                throw new ArgumentException($"Unknown generator '{spec.Name}'. Built-in generators: {string.Join(", ", Names)}; for your own, pass a generator factory.", nameof(spec));
        }
    }
}
