using VqganClip.Clipart;
using VqganClip.Clipart.Judge;

namespace VqganClip.Training.Tests.Clipart;

/// <summary>SceneCoverage reads back the backgrounds and the thirds that rendered scenes were drawn with.</summary>
public class SceneCoverageTests
{
    private static float[] Render(ScenePosition position, SceneBackground background, ClipartColor colour = ClipartColor.Red) =>
        SceneRenderer.RenderPlanar(new SceneSpec([SceneObject.Canonical(ObjectKind.Circle, colour, ObjectSize.Small, position)], null, background));

    [Fact]
    public void Counts_each_pictures_background_and_the_third_its_object_sits_in()
    {
        var coverage = new SceneCoverage();
        coverage.Add(Render(ScenePosition.Left, SceneBackground.Night), ClipartColor.Red);
        coverage.Add(Render(ScenePosition.Right, SceneBackground.Grass, ClipartColor.Blue), ClipartColor.Blue);
        coverage.Add(Render(ScenePosition.Top, SceneBackground.White), ClipartColor.Red);
        coverage.Add(Render(ScenePosition.Bottom, SceneBackground.White), ClipartColor.Red);
        coverage.Add(Render(ScenePosition.Middle, SceneBackground.Sand), ClipartColor.Red);
        // a picture without the colour it should show: a background, no position
        coverage.Add(Render(ScenePosition.Middle, SceneBackground.Sky, ClipartColor.Yellow), ClipartColor.Purple);

        Assert.Equal(6, coverage.Count);
        Assert.Equal(5, coverage.Located);
        // White, Sky, Night, Grass, Sand
        Assert.Equal([2, 1, 1, 1, 1], coverage.Backgrounds);
        Assert.Equal([1, 3, 1], coverage.Columns);   // left; top, bottom and middle; right
        Assert.Equal([1, 3, 1], coverage.Rows);      // top; left, right and middle; bottom
        Assert.Equal(5, coverage.BackgroundsAbove(0.1));
        Assert.Equal(1, coverage.BackgroundsAbove(0.3));
        Assert.Equal("backgrounds white 33%, sky 17%, night 17%, grass 17%, sand 17%; across left/middle/right 20/60/20%; down top/middle/bottom 20/60/20%",
            coverage.Describe());
    }
}
