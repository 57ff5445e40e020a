using TorchSharp;
using VqganClip.Guidance;
using VqganClip.Guidance.Generators;
using static TorchSharp.torch;

namespace VqganClip.Tests.Guidance;

/// <summary>The generator from docs/generators.md: adding a generator is one class, and it saves and resumes.</summary>
public sealed class MosaicGenerator : ImageGeneratorBase
{
    public MosaicGenerator(int width, int height, int cells = 8) : base("mosaic", width, height, device: null)
    {
        Cells = cells;
        Colors = AddParameter("colors", 1, 3, cells, cells);
    }

    public int Cells { get; }
    public TorchSharp.Modules.Parameter Colors { get; }

    public override IReadOnlyDictionary<string, string> Settings =>
        new Dictionary<string, string> { ["cells"] = Cells.ToString() };

    protected override void InitializeCore(Generator rng) =>
        Colors.copy_(randn(Colors.shape, generator: rng));

    public override Tensor Render() =>
        nn.functional.interpolate(Colors.sigmoid(), new long[] { Height, Width },
            mode: InterpolationMode.Bilinear, align_corners: false);
}

public class CustomGeneratorTests : IClassFixture<TinyModels>
{
    private readonly TinyModels _m;
    public CustomGeneratorTests(TinyModels models) => _m = models;

    [Fact]
    public void TheDocumentedGeneratorRunsSavesAndResumes()
    {
        var options = new GuidanceOptions { CutCount = 2, Seed = 3 };
        var dir = Path.Combine(Path.GetTempPath(), "vqgan-clip-tests", Guid.NewGuid().ToString("N"));
        try
        {
            using var straight = GuidedRun.Create(new MosaicGenerator(40, 40, 4), _m.Clip, "a stained glass window", options);
            straight.Step(6);
            using (var first = GuidedRun.Create(new MosaicGenerator(40, 40, 4), _m.Clip, "a stained glass window", options))
            {
                first.Step(3);
                first.Save(dir);
            }
            var e = Assert.Throws<ArgumentException>(() => GuidedRun.Resume(dir, _m.Clip));
            Assert.Contains("Unknown generator 'mosaic'", e.Message);
            using var resumed = GuidedRun.Resume(dir, _m.Clip,
                generatorFactory: spec => new MosaicGenerator(spec.Width, spec.Height, int.Parse(spec.Settings["cells"])));
            resumed.Step(3);
            Assert.Equal(straight.History.Select(h => h.Total), resumed.History.Select(h => h.Total));
            Assert.Equal(straight.CurrentImage().ToPng(), resumed.CurrentImage().ToPng());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
