namespace VqganClip.Models.Pix2Pix;

/// <summary>
/// upstream's <c>--norm</c> (networks.get_norm_layer): <c>batch</c> = BatchNorm2d(affine, running statistics; the
/// convolutions before it have no bias), <c>instance</c> = InstanceNorm2d(affine=False, no running statistics; the
/// convolutions keep their bias). pix2pix's default is batch.
/// </summary>
public enum Pix2PixNorm
{
    Batch,
    Instance,
}

internal static class Pix2PixNormNames
{
    public static string Name(this Pix2PixNorm norm) => norm == Pix2PixNorm.Batch ? "batch" : "instance";

    public static Pix2PixNorm Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "batch" => Pix2PixNorm.Batch,
        "instance" => Pix2PixNorm.Instance,
        _ => throw new ArgumentException($"Unknown norm '{value}': use batch or instance (upstream's --norm; 'none' is not supported)."),
    };
}
