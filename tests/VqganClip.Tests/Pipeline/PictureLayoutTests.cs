using VqganClip.Guidance;
using static TorchSharp.torch;

namespace VqganClip.Tests.Pipeline;

/// <summary>
/// <see cref="PictureLayout"/>: a picture shrunk about a point and two joined at the middle, on pictures whose every
/// value is known.
/// </summary>
public sealed class PictureLayoutTests
{
    /// <summary>A [1, 3, 16, 16] picture: a white backdrop with a red 4x4 square whose top-left pixel is (x, y).</summary>
    private static Tensor Square(int x, int y, float r = 1, float g = 0, float b = 0, float backdrop = 1)
    {
        var data = new float[3 * 16 * 16];
        Array.Fill(data, backdrop);
        for (int yy = y; yy < y + 4; yy++)
            for (int xx = x; xx < x + 4; xx++)
            {
                data[0 * 256 + yy * 16 + xx] = r;
                data[1 * 256 + yy * 16 + xx] = g;
                data[2 * 256 + yy * 16 + xx] = b;
            }
        return tensor(data, new long[] { 1, 3, 16, 16 });
    }

    private static float At(Tensor image, int c, int y, int x) => image[0, c, y, x].item<float>();

    [Fact]
    public void Shrinking_by_a_half_about_a_point_keeps_that_point_and_halves_the_distances()
    {
        // a red 4x4 square with its centre at pixel edge (10, 10); shrunk by 0.5 about (10/16, 10/16) it covers 2x2 pixels there
        using var image = Square(8, 8);
        using var shrunk = PictureLayout.Shrink(image, 0.5, (10 / 16.0, 10 / 16.0));
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
            {
                bool inside = x is 9 or 10 && y is 9 or 10;
                Assert.Equal(inside ? 0f : 1f, At(shrunk, 1, y, x), 1e-5f);
            }
    }

    [Fact]
    public void Moving_puts_the_from_point_on_the_to_point()
    {
        // the red square centred at (8, 8) moved from the middle to (4/16, 12/16): 4 pixels left and 4 down, same size,
        // the white backdrop repeated into the strip it leaves
        using var image = Square(6, 6);
        using var moved = PictureLayout.Move(image, 1, (0.5, 0.5), (0.25, 0.75));
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
            {
                bool inside = x is >= 2 and < 6 && y is >= 10 and < 14;
                Assert.Equal(inside ? 0f : 1f, At(moved, 1, y, x), 1e-5f);
            }

        // moved and halved: the square lands at (4, 12) covering 2x2 pixels
        using var small = PictureLayout.Move(image, 0.5, (0.5, 0.5), (0.25, 0.75));
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
            {
                bool inside = x is 3 or 4 && y is 11 or 12;
                Assert.Equal(inside ? 0f : 1f, At(small, 1, y, x), 1e-5f);
            }

        // shrinking about a point is moving that point onto itself
        using var shrunk = PictureLayout.Shrink(image, 0.5, (0.3, 0.6));
        using var same = PictureLayout.Move(image, 0.5, (0.3, 0.6), (0.3, 0.6));
        Assert.True(shrunk.eq(same).all().item<bool>());
        var e = Assert.Throws<ArgumentException>(() => PictureLayout.Move(image, 2, (0.5, 0.5), (0.25, 0.5)));
        Assert.Contains("scale in (0, 1]; got 2", e.Message);
    }

    [Fact]
    public void A_shrunk_picture_repeats_its_border_where_nothing_was_drawn()
    {
        // a dark backdrop: the margins the shrink leaves are the border's colour, not black or white
        using var image = Square(6, 6, backdrop: 0.25f);
        using var shrunk = PictureLayout.Shrink(image, 0.5, (0.5, 0.5));
        Assert.Equal(0.25f, At(shrunk, 2, 0, 0), 1e-5f);
        Assert.Equal(0.25f, At(shrunk, 2, 15, 15), 1e-5f);
        Assert.Equal(0f, At(shrunk, 2, 8, 8), 1e-5f);
    }

    [Fact]
    public void Scale_one_is_the_picture_itself()
    {
        using var image = Square(3, 5);
        using var same = PictureLayout.Shrink(image, 1, (0.2, 0.7));
        Assert.True(same.eq(image).all().item<bool>());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_scale_outside_zero_to_one_is_refused(double scale)
    {
        using var image = Square(0, 0);
        var e = Assert.Throws<ArgumentException>(() => PictureLayout.Shrink(image, scale, (0.5, 0.5)));
        Assert.Contains("scale in (0, 1]", e.Message);
    }

    [Fact]
    public void Halves_join_rows_or_columns_at_the_middle()
    {
        using var first = Square(0, 0);
        using var second = Square(12, 12, r: 0, g: 0, b: 1);
        using var rows = PictureLayout.JoinHalves(first, second, RegionAxis.Rows);
        using var columns = PictureLayout.JoinHalves(first, second, RegionAxis.Columns);
        Assert.True(rows[.., .., ..8].eq(first[.., .., ..8]).all().item<bool>());
        Assert.True(rows[.., .., 8..].eq(second[.., .., 8..]).all().item<bool>());
        Assert.True(columns[.., .., .., ..8].eq(first[.., .., .., ..8]).all().item<bool>());
        Assert.True(columns[.., .., .., 8..].eq(second[.., .., .., 8..]).all().item<bool>());
        var e = Assert.Throws<ArgumentException>(() => PictureLayout.JoinHalves(first, second[.., .., ..8], RegionAxis.Rows));
        Assert.Contains("[1, 3, 16, 16] and [1, 3, 8, 16]", e.Message);
    }

}
