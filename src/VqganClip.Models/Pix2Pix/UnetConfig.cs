using System.Text.Json.Nodes;

namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// The U-Net generator's shape (upstream networks.define_G with netG unet_128 / unet_256 / a custom num_downs):
/// <paramref name="NumDowns"/> down-samplings (an image side must be divisible by 2^NumDowns; 7 for 128 px, 8 for
/// 256 px), <paramref name="Ngf"/> filters in the outermost layer (channels ngf·{1,2,4,8,8,...}),
/// <paramref name="UseDropout"/> Dropout(0.5) in the NumDowns − 5 ngf·8 blocks next to the innermost (pix2pix's default:
/// on). Dropout has no weights, so a state dict cannot tell; loaders assume upstream's default.
/// </summary>
public sealed record UnetConfig(int InputNc = 3, int OutputNc = 3, int NumDowns = 8, int Ngf = 64,
    Pix2PixNorm Norm = Pix2PixNorm.Batch, bool UseDropout = true)
{
    /// <summary>The smallest U-Net upstream's constructor builds: outermost, ngf·2, ngf·4, ngf·8 blocks and the innermost.</summary>
    public const int MinNumDowns = 5;

    /// <summary>upstream's <c>unet_128</c> (num_downs 7).</summary>
    public static UnetConfig Unet128(int ngf = 64) => new(NumDowns: 7, Ngf: ngf);

    /// <summary>upstream's <c>unet_256</c> (num_downs 8), the pix2pix default.</summary>
    public static UnetConfig Unet256(int ngf = 64) => new(NumDowns: 8, Ngf: ngf);

    /// <summary>An image side the network accepts is a multiple of this (2^NumDowns).</summary>
    public int SideMultiple => 1 << NumDowns;

    /// <summary>upstream's name for this shape where it has one.</summary>
    public string Name => NumDowns switch { 7 => "unet_128", 8 => "unet_256", _ => $"unet (num_downs {NumDowns})" };

    public void Validate()
    {
        if (InputNc < 1 || OutputNc < 1) throw new ArgumentException($"U-Net channels must be positive (input_nc {InputNc}, output_nc {OutputNc}).");
        if (Ngf < 1) throw new ArgumentException($"U-Net ngf must be positive, got {Ngf}.");
        if (NumDowns < MinNumDowns || NumDowns > 12)
            throw new ArgumentException($"U-Net num_downs must be {MinNumDowns}..12 (upstream builds at least the outermost, three middle and the innermost block), got {NumDowns}.");
    }

    /// <summary>Channels entering / leaving block <paramref name="depth"/> (0 = outermost) as upstream's constructor assigns them: (outer_nc, inner_nc).</summary>
    public (int Outer, int Inner) BlockChannels(int depth)
    {
        // Upstream builds from the innermost out: innermost ngf·8/ngf·8, NumDowns−5 more ngf·8/ngf·8 blocks (the
        // dropout ones), then ngf·4/ngf·8, ngf·2/ngf·4, ngf/ngf·2 and the outermost output_nc/ngf (input_nc in).
        return depth switch
        {
            0 => (OutputNc, Ngf),
            1 => (Ngf, Ngf * 2),
            2 => (Ngf * 2, Ngf * 4),
            3 => (Ngf * 4, Ngf * 8),
            _ => (Ngf * 8, Ngf * 8),
        };
    }

    /// <summary>Whether block <paramref name="depth"/> is one of the NumDowns − 5 ngf·8 blocks upstream gives dropout.</summary>
    public bool HasDropout(int depth) => UseDropout && depth >= 4 && depth < NumDowns - 1;

    public JsonObject ToJson() => new()
    {
        ["netG"] = "unet",
        ["input_nc"] = InputNc,
        ["output_nc"] = OutputNc,
        ["num_downs"] = NumDowns,
        ["ngf"] = Ngf,
        ["norm"] = Norm.Name(),
        ["use_dropout"] = UseDropout,
    };

    public static UnetConfig FromJson(JsonNode json, string what)
    {
        try
        {
            return new UnetConfig(
                json["input_nc"]!.GetValue<int>(), json["output_nc"]!.GetValue<int>(), json["num_downs"]!.GetValue<int>(),
                json["ngf"]!.GetValue<int>(), Pix2PixNormNames.Parse(json["norm"]!.GetValue<string>()), json["use_dropout"]!.GetValue<bool>());
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"{what}: not a U-Net configuration (needs input_nc, output_nc, num_downs, ngf, norm, use_dropout): {e.Message}", e);
        }
    }
}
