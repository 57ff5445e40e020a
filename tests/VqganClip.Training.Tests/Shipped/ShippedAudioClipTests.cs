using VqganClip.Guidance;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Clip;
using VqganClip.Training.AudioClip;

namespace VqganClip.Training.Tests.Shipped;

/// <summary>
/// The shipped clipart audio head (data/clipart-audioclip.safetensors) loads as <c>generate --audioclip</c> loads it,
/// pairs with the shipped clipart CLIP, and places held-out captions spoken by the held-out voice near their own
/// written captions (a real check: an untrained head ranks its own caption in the middle, at 0.5).
/// </summary>
public sealed class ShippedAudioClipTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqgan-clip-shipped-audio-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string DataFile(string name)
    {
        var path = Path.Combine(TestSetup.RepoRoot, "data", name);
        Assert.True(File.Exists(path), $"{path} is missing");
        return path;
    }

    [Fact]
    public void The_shipped_head_loads_small_pairs_with_the_clipart_CLIP_and_is_under_its_budget()
    {
        var path = DataFile("clipart-audioclip.safetensors");
        Assert.True(new FileInfo(path).Length <= 6_000_000, $"{path} is {new FileInfo(path).Length / 1e6:F1} MB; its budget is 6 MB");
        using var model = AudioClipLoader.Load(path);
        Assert.Null(model.Clip);
        Assert.Equal(DataFile(ShippedModels.ClipFileName), model.PairedClipPath);
        using var clip = ClipModel.Load(model.PairedClipPath!);
        Assert.Equal(clip.EmbedDim, model.EmbedDim);
    }

    [Fact]
    public void A_held_out_spoken_caption_is_nearer_its_own_caption_than_most_others()
    {
        using var model = AudioClipLoader.Load(DataFile("clipart-audioclip.safetensors"));
        using var clip = ClipModel.Load(model.PairedClipPath!);
        var clips = SpokenCaptions.HeldOut(20);
        var wavs = SpokenCaptions.Synthesize(clips, _dir);
        var r = SpokenCaptionRetrieval.Run(model, clip, clips, wavs);
        // For each clip: the share of the other 19 captions its own caption beats (0.5 = chance).
        double beaten = Enumerable.Range(0, r.Clips).Average(i =>
            Enumerable.Range(0, r.Clips).Where(j => j != i).Count(j => r.Cosines[i, j] < r.Cosines[i, i]) / (double)(r.Clips - 1));
        Assert.True(beaten > 0.75, $"a spoken caption beats only {beaten:P0} of the other captions on average (top-1 {r.Top1:P0})");
    }
}
