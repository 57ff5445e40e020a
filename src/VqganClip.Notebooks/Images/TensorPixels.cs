using TorchSharp;

namespace VqganClip.Notebooks.Images;

/// <summary>Reads an image tensor ([1,C,H,W] or [C,H,W], C = 1 or 3, float in [0,1]) into CHW floats on the CPU.</summary>
public static class TensorPixels
{
    public static (float[] Chw, int Channels, int Height, int Width) Read(torch.Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var shape = image.shape;
        long[] chw = shape.Length switch
        {
            4 when shape[0] == 1 => shape[1..],
            4 => throw new ArgumentException(
                $"An image tensor has one image ([1,C,H,W]); got a batch of {shape[0]} ([{string.Join(",", shape)}]). Show a batch with ImageGridView.FromBatch."),
            3 => shape,
            _ => throw new ArgumentException($"An image tensor is [1,C,H,W] or [C,H,W]; got [{string.Join(",", shape)}]."),
        };
        if (chw[0] is not (1 or 3))
            throw new ArgumentException($"An image tensor has 1 or 3 channels; got {chw[0]} (shape [{string.Join(",", shape)}]).");
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var cpu = image.detach().to(torch.float32).cpu().contiguous().reshape(chw);
        return (cpu.data<float>().ToArray(), (int)chw[0], (int)chw[1], (int)chw[2]);
    }

    /// <summary>Splits a batch [N,C,H,W] (or one image [C,H,W]) into CHW float arrays.</summary>
    public static IReadOnlyList<(float[] Chw, int Channels, int Height, int Width)> ReadBatch(torch.Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var shape = batch.shape;
        if (shape.Length == 3) return [Read(batch)];
        if (shape.Length != 4)
            throw new ArgumentException($"An image batch is [N,C,H,W]; got [{string.Join(",", shape)}].");
        var images = new List<(float[], int, int, int)>((int)shape[0]);
        for (long i = 0; i < shape[0]; i++)
        {
            using var one = batch[i];
            images.Add(Read(one));
        }
        return images;
    }
}
