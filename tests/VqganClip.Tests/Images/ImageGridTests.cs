using TorchSharp;
using VqganClip.Models.Images;
using static TorchSharp.torch;

namespace VqganClip.Tests.Images;

public class ImageGridTests
{
    [Fact]
    public void Grid_has_the_expected_size_and_keeps_pixels_exactly()
    {
        var images = Enumerable.Range(0, 5).Select(i => rand(3, 16, 16, generator: new Generator((ulong)i))).ToList();
        using var grid = ImageGrid.Make(images);
        // 5 images → 3 columns × 2 rows; padding 2 around and between.
        Assert.Equal(new long[] { 1, 3, 2 * 16 + 3 * 2, 3 * 16 + 4 * 2 }, grid.shape);
        // Image 4 sits in row 1, column 1.
        using var cell = grid[0].narrow(1, 2 + 16 + 2, 16).narrow(2, 2 + 16 + 2, 16);
        Assert.Equal(0f, (cell - images[4]).abs().max().item<float>());
        // Background between cells is white; the empty sixth cell too.
        Assert.Equal(1f, grid[0, 0, 0, 0].item<float>());
        Assert.Equal(1f, grid[0].narrow(1, 20, 16).narrow(2, 2 + 2 * 18, 16).min().item<float>());
        foreach (var image in images) image.Dispose();
    }

    [Fact]
    public void Columns_padding_and_mixed_sizes()
    {
        using var a = zeros(3, 10, 20);
        using var b = zeros(1, 3, 6, 8);
        using var grid = ImageGrid.Make([a, b], columns: 1, padding: 0);
        Assert.Equal(new long[] { 1, 3, 20, 20 }, grid.shape);
        // b is centred in its 20×10 cell: columns 6..13, rows 12..17 are black, the rest white.
        Assert.Equal(0f, grid[0, 0, 12, 6].item<float>());
        Assert.Equal(1f, grid[0, 0, 12, 5].item<float>());
        Assert.Equal(1f, grid[0, 0, 11, 6].item<float>());
    }

    [Fact]
    public void Labels_add_a_strip_under_each_row_with_text_when_a_font_exists()
    {
        var images = Enumerable.Range(0, 4).Select(_ => zeros(3, 32, 64)).ToList();
        using var grid = ImageGrid.Make(images, columns: 2, labels: ["first", "second", null, "a very long label that cannot fit in sixty-four pixels"], labelHeight: 18);
        Assert.Equal(new long[] { 1, 3, 2 * (32 + 18) + 3 * 2, 2 * 64 + 3 * 2 }, grid.shape);
        using var firstStrip = grid[0].narrow(1, 2 + 32, 18).narrow(2, 2, 64);
        using var thirdStrip = grid[0].narrow(1, 2 + 32 + 18 + 2 + 32, 18).narrow(2, 2, 64);
        Assert.Equal(1f, thirdStrip.min().item<float>()); // null label: blank strip
        if (LabelTypeface.Typeface is not null)
            Assert.True(firstStrip.min().item<float>() < 0.5f, "the label text should draw dark pixels");
        else
            Assert.Equal(1f, firstStrip.min().item<float>()); // no font on this machine: blank, but the strip exists
        foreach (var image in images) image.Dispose();
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        using var a = zeros(3, 4, 4);
        Assert.Throws<ArgumentException>(() => ImageGrid.Make([]));
        Assert.Contains("2 labels for 1 images", Assert.Throws<ArgumentException>(() => ImageGrid.Make([a], labels: ["x", "y"])).Message);
        Assert.Contains("image #1", Assert.Throws<ArgumentException>(() => ImageGrid.Make([a, zeros(2, 4, 4)])).Message);
    }
}
