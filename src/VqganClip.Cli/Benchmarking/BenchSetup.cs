using VqganClip.Models.Clip;
using VqganClip.Models.Vqgan;

namespace VqganClip.Cli.Benchmarking;

/// <summary>
/// One benchmark configuration of <c>vqgan-clip bench</c>: which CLIP and VQGAN (a file, or an architecture with
/// random weights), the output size and the number of cutouts. The cut size is the CLIP's input resolution.
/// Always the classic loop: one text prompt, the original's cutouts (cut_pow 1), spherical distance loss, Adam lr 0.1.
/// </summary>
public sealed record BenchSetup
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    /// <summary>Output side in pixels (square).</summary>
    public required int Size { get; init; }
    public required int CutCount { get; init; }
    public double LearningRate { get; init; } = 0.1;
    public string Prompt { get; init; } = "a lighthouse on a cliff in a storm, oil painting";

    /// <summary>CLIP architecture for random weights, or null when <see cref="ClipPath"/> is given.</summary>
    public ClipConfig? ClipConfig { get; init; }
    public string? ClipPath { get; init; }
    /// <summary>VQGAN architecture for random weights, or null when <see cref="VqganPath"/> is given.</summary>
    public VqganConfig? VqganConfig { get; init; }
    public string? VqganPath { get; init; }
    public string? VqganYaml { get; init; }

    public static IReadOnlyList<string> Names { get; } = new[] { "A", "B", "C" };

    /// <summary>vqgan_imagenet_f16_16384's architecture (bench vqgan's definition of its published YAML).</summary>
    public static VqganConfig ImagenetF16_16384 => Commands.BenchVqganCommand.ImagenetF16_16384;

    /// <summary>
    /// Configuration A, B or C (case-insensitive). <paramref name="clipPath"/> / <paramref name="vqganPath"/> replace the
    /// random-weight models of A and B, or the fixture models of C (found under tests/VqganClip.Tests/fixtures).
    /// </summary>
    public static BenchSetup For(string name, string? clipPath = null, string? vqganPath = null, string? vqganYaml = null)
    {
        var setup = (name ?? "").Trim().ToUpperInvariant() switch
        {
            "A" => new BenchSetup
            {
                Name = "A", Size = 256, CutCount = 32, ClipConfig = Models.Clip.ClipConfig.ViTB32, VqganConfig = ImagenetF16_16384,
                Description = "vqgan_imagenet_f16_16384 + CLIP ViT-B/32 (random weights), 256x256, 32 cutouts of 224",
            },
            "B" => new BenchSetup
            {
                Name = "B", Size = 128, CutCount = 16, ClipConfig = Models.Clip.ClipConfig.ViTB32, VqganConfig = ImagenetF16_16384,
                Description = "vqgan_imagenet_f16_16384 + CLIP ViT-B/32 (random weights), 128x128, 16 cutouts of 224",
            },
            "C" => new BenchSetup
            {
                Name = "C", Size = 64, CutCount = 8,
                ClipPath = FixtureFile("clip-vit-tiny", "openai.safetensors"),
                VqganPath = FixtureFile("vqgan-f16-tiny", "model.safetensors"),
                VqganYaml = FixtureFile("vqgan-f16-tiny", "model.yaml"),
                Description = "tiny fixture models (clip-vit-tiny, vqgan-f16-tiny), 64x64, 8 cutouts of 32",
            },
            _ => throw new ArgumentException($"Unknown benchmark configuration '{name}'; choose one of {string.Join(", ", Names)}."),
        };
        if (clipPath is not null) setup = setup with { ClipPath = clipPath, ClipConfig = null };
        if (vqganPath is not null) setup = setup with { VqganPath = vqganPath, VqganYaml = vqganYaml, VqganConfig = null };
        else if (vqganYaml is not null) throw new ArgumentException("--vqgan-config needs --vqgan (the checkpoint it describes).");
        if (setup.ClipPath is not null && !File.Exists(setup.ClipPath))
            throw new FileNotFoundException($"CLIP checkpoint '{setup.ClipPath}' does not exist.", setup.ClipPath);
        if (setup.VqganPath is not null && !File.Exists(setup.VqganPath))
            throw new FileNotFoundException($"VQGAN checkpoint '{setup.VqganPath}' does not exist.", setup.VqganPath);
        return setup;
    }

    public ClipModel LoadClip() => ClipPath is not null ? ClipModel.Load(ClipPath) : new ClipModel(ClipConfig!);

    public VqganModel LoadVqgan() => VqganPath is not null ? VqganModel.Load(VqganPath, VqganYaml) : new VqganModel(VqganConfig!);

    /// <summary>
    /// A file of the test fixtures: next to the executable (test runs copy fixtures/ there), else under
    /// tests/VqganClip.Tests/fixtures in the working directory or any folder above it or above the executable.
    /// Returns the expected path under the working directory when not found, so the error names a sensible place.
    /// </summary>
    internal static string FixtureFile(params string[] parts)
    {
        var relative = Path.Combine(parts);
        var beside = Path.Combine(AppContext.BaseDirectory, "fixtures", relative);
        if (File.Exists(beside)) return beside;
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "VqganClip.Tests", "fixtures", relative);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return Path.Combine(Environment.CurrentDirectory, "tests", "VqganClip.Tests", "fixtures", relative);
    }
}
