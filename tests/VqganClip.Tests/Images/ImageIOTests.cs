using SkiaSharp;
using TorchSharp;
using VqganClip.Models.Images;
using static TorchSharp.torch;
using static VqganClip.Tests.Images.ImageTestData;

namespace VqganClip.Tests.Images;

public class ImageIOTests
{
    [Fact]
    public void Png_round_trip_of_random_8bit_pixels_is_exact()
    {
        using var dir = new TempDir();
        const int w = 37, h = 23;
        var pixels = RandomRgba(w, h, seed: 1);
        var source = dir.File("source.png");
        File.WriteAllBytes(source, Encode(pixels, w, h, SKEncodedImageFormat.Png));

        using var image = ImageIO.Load(source);
        Assert.Equal(new long[] { 1, 3, h, w }, image.shape);
        Assert.Equal(ScalarType.Float32, image.dtype);
        // Values are exactly v/255.
        using var asBytes = image.mul(255).round().to(uint8)[0].permute(1, 2, 0).contiguous();
        var rgb = asBytes.data<byte>().ToArray();
        for (int i = 0, j = 0; i < pixels.Length; i += 4, j += 3)
        {
            Assert.Equal(pixels[i], rgb[j]);
            Assert.Equal(pixels[i + 1], rgb[j + 1]);
            Assert.Equal(pixels[i + 2], rgb[j + 2]);
        }

        var saved = dir.File("saved.png");
        ImageIO.Save(image, saved);
        Assert.Equal(pixels, DecodeRgba(File.ReadAllBytes(saved), out int sw, out int sh));
        Assert.Equal((w, h), (sw, sh));
        Assert.Equal(pixels, DecodeRgba(ImageIO.ToPngBytes(image), out _, out _));
    }

    [Fact]
    public void Jpeg_loads_close_to_its_source_and_saves()
    {
        using var dir = new TempDir();
        const int w = 64, h = 48;
        // A smooth gradient, which JPEG keeps well.
        var pixels = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            int i = (y * w + x) * 4;
            pixels[i] = (byte)(x * 4); pixels[i + 1] = (byte)(y * 5); pixels[i + 2] = 128; pixels[i + 3] = 255;
        }
        var path = dir.File("gradient.jpg");
        File.WriteAllBytes(path, Encode(pixels, w, h, SKEncodedImageFormat.Jpeg, 95));

        using var image = ImageIO.Load(path);
        Assert.Equal(new long[] { 1, 3, h, w }, image.shape);
        using var expected = tensor(pixels, new long[] { h, w, 4 }).narrow(2, 0, 3).permute(2, 0, 1).to(float32).div(255).unsqueeze(0);
        Assert.True((image - expected).abs().mean().item<float>() < 0.02f);

        var again = dir.File("again.jpeg");
        ImageIO.Save(image, again, jpegQuality: 90);
        using var reloaded = ImageIO.Load(again);
        Assert.True((reloaded - image).abs().mean().item<float>() < 0.02f);
    }

    [Fact]
    public void Webp_is_saved_lossless_and_loads()
    {
        using var dir = new TempDir();
        using var image = rand(1, 3, 20, 30, generator: new Generator(3)).mul(255).round().div(255);
        var path = dir.File("x.webp");
        ImageIO.Save(image, path);
        using var loaded = ImageIO.Load(path);
        Assert.Equal(0f, (loaded - image).abs().max().item<float>(), 6);
    }

    [Fact]
    public void Transparency_is_composited_on_white()
    {
        using var dir = new TempDir();
        // Pixel 0: transparent black; pixel 1: opaque red; pixel 2: red at alpha 128.
        byte[] rgba = [0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0, 128];
        var path = dir.File("alpha.png");
        File.WriteAllBytes(path, Encode(rgba, 3, 1, SKEncodedImageFormat.Png, alphaType: SKAlphaType.Unpremul));
        using var image = ImageIO.Load(path);
        var v = image[0].permute(1, 2, 0).reshape(-1).data<float>().ToArray();
        Assert.Equal(new[] { 1f, 1f, 1f, 1f, 0f, 0f }, v[..6]);
        Assert.Equal(1f, v[6], 5);
        Assert.Equal(1f - 128 / 255f, v[7], 2);
        Assert.Equal(1f - 128 / 255f, v[8], 2);
    }

    [Fact]
    public void Three_dim_and_batch_of_one_save_the_same_pixels()
    {
        using var dir = new TempDir();
        using var chw = rand(3, 9, 11, generator: new Generator(5));
        ImageIO.Save(chw, dir.File("a.png"));
        ImageIO.Save(chw.unsqueeze(0), dir.File("b.png"));
        Assert.Equal(DecodeRgba(File.ReadAllBytes(dir.File("a.png")), out int w, out int h), DecodeRgba(File.ReadAllBytes(dir.File("b.png")), out _, out _));
        Assert.Equal((11, 9), (w, h));
    }

    [Fact]
    public void Values_are_clamped_and_rounded_half_to_even()
    {
        // 0.5/255 → 0 (half to even), 1.5/255 → 2, −0.3 → 0, 1.7 → 255, 2.5/255 → 2
        using var image = tensor(new float[] { 0.5f / 255, 1.5f / 255, -0.3f, 1.7f, 2.5f / 255, 0.2f }, new long[] { 3, 1, 2 });
        var rgba = DecodeRgba(ImageIO.ToPngBytes(image), out _, out _);
        // pixel (0,0) = channels (v0, v2, v4), pixel (0,1) = (v1, v3, v5)
        Assert.Equal(new byte[] { 0, 0, 2, 255, 2, 255, 51, 255 }, rgba);
    }

    [Fact]
    public void Batches_save_as_a_grid_or_one_file_each()
    {
        using var dir = new TempDir();
        using var batch = rand(3, 3, 8, 10, generator: new Generator(7));
        ImageIO.Save(batch, dir.File("grid.png"));
        DecodeRgba(File.ReadAllBytes(dir.File("grid.png")), out int gw, out int gh);
        // 3 images → 2 columns, 2 rows, padding 2: (2·10 + 3·2) × (2·8 + 3·2)
        Assert.Equal((26, 22), (gw, gh));

        var written = ImageIO.SaveEach(batch, dir.File("each.png"));
        Assert.Equal(new[] { dir.File("each-0.png"), dir.File("each-1.png"), dir.File("each-2.png") }, written);
        using var second = ImageIO.Load(written[1]);
        Assert.True((second[0] - batch[1]).abs().max().item<float>() <= 0.5f / 255 + 1e-6f);

        var pattern = ImageIO.SaveEach(batch, Path.Combine(dir.Path, "sub", "img{0:D3}.png"));
        Assert.Equal(Path.Combine(dir.Path, "sub", "img002.png"), pattern[2]);
        Assert.True(File.Exists(pattern[2]));
    }

    [Fact]
    public void Bad_shapes_and_types_are_rejected_with_the_shape()
    {
        using var dir = new TempDir();
        var e1 = Assert.Throws<ArgumentException>(() => ImageIO.ToPngBytes(zeros(4, 5)));
        Assert.Contains("[4,5]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => ImageIO.ToPngBytes(zeros(1, 4, 5, 5)));
        Assert.Contains("4 channels", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => ImageIO.ToPngBytes(zeros(new long[] { 3, 5, 5 }, uint8)));
        Assert.Contains("Byte", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => ImageIO.ToPngBytes(full(3, 2, 2, float.NaN)));
        Assert.Contains("NaN", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => ImageIO.Save(zeros(3, 2, 2), dir.File("x.tiff")));
        Assert.Contains("x.tiff", e5.Message);
        var e6 = Assert.Throws<ArgumentException>(() => ImageIO.Save(zeros(3, 2, 2), dir.File("x.jpg"), new Dictionary<string, string> { ["prompt"] = "p" }));
        Assert.Contains("PNG", e6.Message);
    }

    [Fact]
    public void Missing_empty_corrupt_and_truncated_files_are_named()
    {
        using var dir = new TempDir();
        var missing = dir.File("missing.png");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => ImageIO.Load(missing)).Message);

        var empty = dir.File("empty.png");
        File.WriteAllBytes(empty, []);
        Assert.Contains(empty, Assert.Throws<InvalidDataException>(() => ImageIO.Load(empty)).Message);

        var corrupt = dir.File("corrupt.jpg");
        File.WriteAllBytes(corrupt, RandomRgba(50, 2, seed: 9));
        Assert.Contains(corrupt, Assert.Throws<InvalidDataException>(() => ImageIO.Load(corrupt)).Message);

        var truncated = dir.File("truncated.png");
        var png = Encode(RandomRgba(64, 64, seed: 10), 64, 64, SKEncodedImageFormat.Png);
        File.WriteAllBytes(truncated, png[..(png.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => ImageIO.Load(truncated));
        Assert.Contains(truncated, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void FromBitmap_and_ToBitmap_round_trip()
    {
        var pixels = RandomRgba(5, 4, seed: 11);
        using var bitmap = ToBitmap(pixels, 5, 4);
        using var image = ImageIO.FromBitmap(bitmap);
        using var back = ImageIO.ToBitmap(image);
        Assert.Equal(pixels, back.Bytes);
    }

    [Fact]
    public void Exif_orientation_right_top_rotates_clockwise()
    {
        // 2 rows × 3 columns, values = index
        using var image = arange(6, float32).view(1, 1, 2, 3);
        using var upright = ImageIO.ApplyOrigin(image, SKEncodedOrigin.RightTop);
        Assert.Equal(new long[] { 1, 1, 3, 2 }, upright.shape);
        // rotating [[0,1,2],[3,4,5]] 90° clockwise gives [[3,0],[4,1],[5,2]]
        Assert.Equal(new float[] { 3, 0, 4, 1, 5, 2 }, upright.reshape(-1).data<float>().ToArray());
        using var ccw = ImageIO.ApplyOrigin(image, SKEncodedOrigin.LeftBottom);
        Assert.Equal(new float[] { 2, 5, 1, 4, 0, 3 }, ccw.reshape(-1).data<float>().ToArray());
    }

    [Fact]
    public void Resize_changes_size_keeps_rank_and_antialiases_when_shrinking()
    {
        using var chw = rand(3, 40, 60, generator: new Generator(12));
        using var small = ImageIO.Resize(chw, 30, 20);
        Assert.Equal(new long[] { 3, 20, 30 }, small.shape);
        using var batch = ImageIO.Resize(chw.unsqueeze(0).expand(2, -1, -1, -1), 90, 50);
        Assert.Equal(new long[] { 2, 3, 50, 90 }, batch.shape);

        // Stripes of period 3 px shrunk 4× are above the new Nyquist limit: the ideal result is flat 1/3.
        // Plain bicubic sampling aliases them into bold bands; the antialiased resize stays close to flat.
        using var xx = arange(192).view(1, 1, 192).expand(3, 192, 192);
        using var stripes = (xx % 3 == 0).to(float32).contiguous();
        using var resized = ImageIO.Resize(stripes, 48, 48);
        Assert.True((resized - 1 / 3f).abs().max().item<float>() < 0.1f);
        using var aliased = nn.functional.interpolate(stripes.unsqueeze(0), new long[] { 48, 48 }, mode: InterpolationMode.Bicubic, align_corners: false);
        Assert.True((aliased - 1 / 3f).abs().max().item<float>() > 0.4f);
    }
}
