using VqganClip.Models.IO;
using VqganClip.Models.StyleGan2;
using static TorchSharp.torch;

namespace VqganClip.Guidance.StyleClip;

/// <summary>
/// Reads a W+ code to start an edit from (StyleCLIP's <c>--latent_path</c>): a torch.save'd tensor (upstream's
/// inversions, e.g. from e4e: [1, n_latent, style_dim]) or a safetensors / torch state dict with one tensor, or a
/// tensor named <c>latent</c> (the stylegan generator's saved state). Accepted shapes: [1, n, d], [n, d] (W+),
/// [1, d] or [d] (one w, repeated). The result is [1, n_latent, style_dim] float32 on the model's device.
/// </summary>
public static class StyleGanLatentFile
{
    public static Tensor Load(string path, StyleGan2Model model)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        if (!File.Exists(path)) throw new FileNotFoundException($"The latent file '{path}' does not exist.", path);
        using var stateDict = Checkpoint.Load(path);
        Tensor? t = stateDict.Count == 1 ? stateDict[stateDict.Keys.First()]
            : stateDict.TryGetValue("latent", out var named) ? named
            : null;
        if (t is null)
            throw new InvalidDataException($"The latent file '{path}' holds {stateDict.Count} tensors ({string.Join(", ", stateDict.Keys.Take(6))}); it should hold one W+ code, or a tensor named 'latent'.");
        int n = model.NLatent, d = model.StyleDim;
        var shape = t.shape;
        using var scope = NewDisposeScope();
        Tensor wplus = shape switch
        {
            [1, var rows, var dim] when rows == n && dim == d => t,
            [var rows, var dim] when rows == n && dim == d => t.unsqueeze(0),
            [1, var dim] when dim == d => model.ToWPlus(t),
            [var dim] when dim == d => model.ToWPlus(t.unsqueeze(0)),
            _ => throw new InvalidDataException(
                $"The latent in '{path}' is [{string.Join(", ", shape)}]; this {model.ImageSize}-px StyleGAN2 takes a W+ code [1, {n}, {d}] (or [{n}, {d}], or one w [{d}])."),
        };
        return wplus.to(ScalarType.Float32).to(model.Device).clone().MoveToOuterDisposeScope();
    }
}
