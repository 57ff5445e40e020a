using VqganClip.Clipart;
using static TorchSharp.torch;

namespace VqganClip.Training.Tests.Clipart;

public class SceneRendererTests
{
    [Fact]
    public void Draws_the_object_in_its_colour_where_the_layout_says()
    {
        var spec = SceneSpec.Single(ObjectKind.Square, ClipartColor.Red, ObjectSize.Big, ScenePosition.Left, SceneBackground.Sky);
        var rgb = SceneRenderer.RenderRgb(spec);
        Assert.Equal(64 * 64 * 3, rgb.Length);
        var red = Palette.Of(ClipartColor.Red);
        var sky = Palette.Sky;
        Pixel(rgb, 16, 32, out var r, out var g, out var b); // centre of the left square
        Assert.Equal((red.R, red.G, red.B), (r, g, b));
        Pixel(rgb, 56, 5, out r, out g, out b); // far corner: background
        Assert.Equal((sky.R, sky.G, sky.B), (r, g, b));

        using var bitmap = SceneRenderer.Render(spec);
        Assert.Equal((64, 64), (bitmap.Width, bitmap.Height));
        Assert.Equal(new SkiaSharp.SKColor(red.R, red.G, red.B), bitmap.GetPixel(16, 32));
        Assert.Equal(new SkiaSharp.SKColor(sky.R, sky.G, sky.B), bitmap.GetPixel(56, 5));
    }

    [Fact]
    public void Grass_background_has_sky_above_and_grass_below()
    {
        var rgb = SceneRenderer.RenderRgb(SceneSpec.Single(ObjectKind.Circle, ClipartColor.Red, ObjectSize.Small, ScenePosition.Top, SceneBackground.Grass));
        Pixel(rgb, 2, 60, out var r, out var g, out var b);
        Assert.Equal((Palette.Grass.R, Palette.Grass.G, Palette.Grass.B), (r, g, b));
        Pixel(rgb, 2, 2, out r, out g, out b);
        Assert.Equal((Palette.Sky.R, Palette.Sky.G, Palette.Sky.B), (r, g, b));
    }

    [Fact]
    public void Every_kind_draws_a_distinct_shape()
    {
        var masks = Vocabulary.Kinds.Select(k =>
        {
            var rgb = SceneRenderer.RenderRgb(SceneSpec.Single(k, ClipartColor.Black, ObjectSize.Big, ScenePosition.Middle));
            return Enumerable.Range(0, 64 * 64).Select(i => rgb[3 * i] < 200).ToArray(); // drawn pixels: black parts and grey details
        }).ToList();
        for (int i = 0; i < masks.Count; i++)
        {
            Assert.True(masks[i].Count(m => m) > 150, $"{Vocabulary.Kinds[i]} is nearly empty");
            for (int j = i + 1; j < masks.Count; j++)
            {
                int differ = masks[i].Zip(masks[j]).Count(p => p.First != p.Second);
                Assert.True(differ > 100, $"{Vocabulary.Kinds[i]} and {Vocabulary.Kinds[j]} differ in only {differ} pixels");
            }
        }
    }

    [Fact]
    public void Batch_render_matches_single_renders_and_is_in_unit_range()
    {
        var specs = new SceneSampler(5).Sample(150).ToList(); // more than one parallel chunk
        using var batch = SceneRenderer.RenderBatch(specs);
        Assert.Equal(new long[] { 150, 3, 64, 64 }, batch.shape);
        Assert.True(batch.min().item<float>() >= 0f && batch.max().item<float>() <= 1f);
        foreach (int i in new[] { 0, 63, 64, 149 })
        {
            using var single = SceneRenderer.RenderTensor(specs[i]);
            Assert.True(batch[i].eq(single).all().item<bool>(), $"scene {i} differs");
            var rgb = SceneRenderer.RenderRgb(specs[i]);
            Assert.Equal(rgb[3 * 100 + 1] / 255f, single[1, 1, 36].item<float>(), 6);
        }
    }

    [Fact]
    public void Renders_at_other_sizes_with_the_same_layout()
    {
        var spec = SceneSpec.Single(ObjectKind.Circle, ClipartColor.Blue, ObjectSize.Big, ScenePosition.Right);
        using var big = SceneRenderer.RenderTensor(spec, 256);
        Assert.Equal(new long[] { 3, 256, 256 }, big.shape);
        Assert.Equal(Palette.Of(ClipartColor.Blue).B / 255f, big[2, 128, 190].item<float>(), 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => SceneRenderer.RenderRgb(spec, 2));
    }

    private static void Pixel(byte[] rgb, int x, int y, out byte r, out byte g, out byte b)
    {
        int i = 3 * (y * 64 + x);
        (r, g, b) = (rgb[i], rgb[i + 1], rgb[i + 2]);
    }
}
