using TorchSharp;

namespace VqganClip.Notebooks.Images;

/// <summary><c>tensor.AsImage()</c> / <c>batch.AsGrid()</c>: show tensors as pictures in a notebook.</summary>
public static class TensorImageExtensions
{
    /// <summary>An image tensor [1,C,H,W] or [C,H,W] in [0,1] as a displayable image.</summary>
    public static NotebookImage AsImage(this torch.Tensor image, string? label = null) => NotebookImage.FromTensor(image, label);

    /// <summary>A batch [N,C,H,W] in [0,1] as a grid (labels optional, one per image).</summary>
    public static ImageGridView AsGrid(this torch.Tensor batch, IReadOnlyList<string>? labels = null, int? columns = null, string? title = null) =>
        ImageGridView.FromBatch(batch, labels, columns, title);
}
