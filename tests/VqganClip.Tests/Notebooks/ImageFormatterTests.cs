using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Images;

namespace VqganClip.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public class ImageFormatterTests
{
    public ImageFormatterTests() => NotebookFormatters.Register();

    private static float[] Gradient(int c, int h, int w) =>
        Enumerable.Range(0, c * h * w).Select(i => (i % (h * w)) / (float)(h * w - 1)).ToArray();

    [Fact]
    public void Image_html_is_an_img_with_a_png_data_uri_of_the_image_size()
    {
        var image = NotebookImage.FromPixels(Gradient(3, 20, 36), 3, 20, 36, "gradient");
        var html = image.ToDisplayString("text/html");

        var decoded = Assert.Single(HtmlProbe.Images(html));
        Assert.Equal(36, decoded.Width);
        Assert.Equal(20, decoded.Height);
        Assert.Contains("gradient", html);
        Assert.Contains("range [0.000, 1.000]", html);
        // Small images are shown enlarged by the whole factor that reaches 256 px (36 -> 288: 8×), nearest neighbour,
        // in the PNG itself, with their true size stated.
        Assert.Equal(8, decoded.Scale);
        Assert.Equal((288, 160), (decoded.Png.Width, decoded.Png.Height));
        Assert.Contains("width=\"288\" height=\"160\"", html);
        Assert.Contains("36×20 px, shown 8×", html);
    }

    [Fact]
    public void A_64_pixel_picture_is_shown_4x_nearest_neighbour_with_its_true_size()
    {
        var html = NotebookImage.FromPixels(Gradient(3, 64, 64), 3, 64, 64).ToHtml();
        var shown = Assert.Single(HtmlProbe.Images(html)); // HtmlProbe checks the PNG is 4×4 blocks of one colour
        Assert.Equal((64, 64, 4), (shown.Width, shown.Height, shown.Scale));
        Assert.Equal((256, 256), (shown.Png.Width, shown.Png.Height));
        Assert.Contains("64×64 px, shown 4×", html);
    }

    [Fact]
    public void Labels_are_html_escaped()
    {
        var html = NotebookImage.FromPixels(Gradient(1, 2, 2), 1, 2, 2, "<b>cat</b> & \"dog\"").ToHtml();
        Assert.Contains("&lt;b&gt;cat&lt;/b&gt; &amp; &quot;dog&quot;", html);
        Assert.DoesNotContain("<b>cat</b>", html);
    }

    [Fact]
    public void Pixels_round_to_the_nearest_byte_and_channels_stay_in_place()
    {
        // 1x2 image: left pixel pure red, right pixel (0, 0.5, 1).
        float[] chw = [1f, 0f, /* G */ 0f, 0.5f, /* B */ 0f, 1f];
        var png = NotebookImage.FromPixels(chw, 3, 1, 2).Png;
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal(new SkiaSharp.SKColor(255, 0, 0), bitmap.GetPixel(0, 0));
        Assert.Equal(new SkiaSharp.SKColor(0, 128, 255), bitmap.GetPixel(1, 0));
    }

    [Fact]
    public void Values_outside_0_1_are_clipped_and_the_caption_says_so()
    {
        float[] chw = [-0.5f, 1.5f, 0f, 0f, 0f, 0f];
        var image = NotebookImage.FromPixels(chw, 3, 1, 2);
        Assert.True(image.Clipped);
        Assert.Contains("clipped to [0,1]", image.ToString());
        Assert.Equal(-0.5f, image.Min);
        Assert.Equal(1.5f, image.Max);
    }

    [Fact]
    public void Plain_text_describes_the_image()
    {
        var image = NotebookImage.FromPixels(Gradient(1, 8, 8), 1, 8, 8, "gray");
        Assert.Equal("gray: image 8×8, range [0.000, 1.000]", image.ToDisplayString("text/plain"));
    }

    [Fact]
    public void Tensor_images_of_both_layouts_give_the_same_png()
    {
        torch.manual_seed(3);
        using var batched = torch.rand(1, 3, 12, 10);
        using var plain = batched.squeeze(0);
        var a = NotebookImage.FromTensor(batched);
        var b = plain.AsImage();
        Assert.Equal(a.Png, b.Png);
        Assert.Equal((10, 12), (a.Width, a.Height));
    }

    [Fact]
    public void A_batch_is_not_an_image_and_the_error_says_what_to_use()
    {
        using var batch = torch.rand(4, 3, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => NotebookImage.FromTensor(batch));
        Assert.Contains("batch of 4", e.Message);
        Assert.Contains("ImageGridView.FromBatch", e.Message);
        using var twoChannels = torch.rand(2, 8, 8);
        Assert.Contains("1 or 3 channels", Assert.Throws<ArgumentException>(() => NotebookImage.FromTensor(twoChannels)).Message);
    }

    [Fact]
    public void Png_bytes_that_are_not_png_are_rejected()
    {
        var e = Assert.Throws<FormatException>(() => NotebookImage.FromPng([1, 2, 3, 4]));
        Assert.Contains("Not a PNG", e.Message);
    }

    [Fact]
    public void Grid_of_a_batch_has_one_labelled_img_per_image()
    {
        using var batch = torch.rand(5, 3, 16, 24);
        var grid = batch.AsGrid(labels: ["a", "b", "c", "d", "e"], columns: 3, title: "cutouts");
        var html = grid.ToDisplayString("text/html");

        var images = HtmlProbe.Images(html);
        Assert.Equal(5, images.Count);
        Assert.All(images, i => Assert.Equal((24, 16), (i.Width, i.Height)));
        Assert.Contains("grid-template-columns:repeat(3,", html);
        foreach (var label in new[] { "a", "b", "c", "d", "e" }) Assert.Contains($"alt=\"{label}\"", html);
        Assert.Equal((2, 3), (grid.Rows, grid.Columns));
        Assert.Contains("cutouts: 5 images in 2×3", grid.ToDisplayString("text/plain"));
    }

    [Fact]
    public void A_grid_of_pictures_of_two_sizes_states_each_true_size_and_its_enlargement()
    {
        // A 64-px and a 32-px picture side by side (the clipart VQGAN beside a 32-px generator): in a 192-px cell the
        // first is shown 3× and the second 6×, and the caption says both.
        var large = NotebookImage.FromPixels(Gradient(3, 64, 64), 3, 64, 64, "vqgan");
        var small = NotebookImage.FromPixels(Gradient(3, 32, 32), 3, 32, 32, "biggan");
        var html = new ImageGridView([large, large, small], columns: 3).ToHtml();
        Assert.Equal([3, 3, 6], HtmlProbe.Images(html).Select(i => i.Scale));
        Assert.Contains("3 images: 64×64 px, shown 3× (2); 32×32 px, shown 6× (1)", html);
        Assert.Contains("2 images, 64×64 px, shown 3×", new ImageGridView([large, large]).ToHtml());
    }

    [Fact]
    public void Sweep_grid_has_row_and_column_headers()
    {
        var tile = NotebookImage.FromPixels(Gradient(3, 4, 4), 3, 4, 4);
        var grid = ImageGridView.Sweep(["a cat", "a dog"], ["seed 1", "seed 2", "seed 3"], (r, c) => tile.WithLabel($"{r},{c}"));
        var html = grid.ToHtml();
        Assert.Equal(6, HtmlProbe.Images(html).Count);
        foreach (var header in new[] { "a cat", "a dog", "seed 1", "seed 2", "seed 3" })
            Assert.Contains($"<div class=\"vqc-head\">{header}</div>", html);
        Assert.Contains("a dog / seed 3: 1,2", grid.ToString());
        Assert.Throws<ArgumentException>(() => new ImageGridView([tile, tile, tile], columns: 2, rowHeaders: ["only one"]));
    }

    [Fact]
    public void Snapshot_grid_keeps_every_kth_step_and_the_last()
    {
        var tile = NotebookImage.FromPixels(Gradient(3, 4, 4), 3, 4, 4);
        var snapshots = new[] { 0, 5, 10, 15, 20, 23 }.Select(s => (s, tile));
        var grid = ImageGridView.FromSnapshots(snapshots, every: 10);
        Assert.Equal(["step 0", "step 10", "step 20", "step 23"], grid.Images.Select(i => i.Label));
    }

    [Fact]
    public void Register_is_idempotent()
    {
        NotebookFormatters.Register();
        int before = Formatter.RegisteredFormatters(false).Count();
        NotebookFormatters.Register();
        NotebookFormatters.Register();
        Assert.Equal(before, Formatter.RegisteredFormatters(false).Count());
        Assert.True(NotebookFormatters.IsRegistered);
    }
}
