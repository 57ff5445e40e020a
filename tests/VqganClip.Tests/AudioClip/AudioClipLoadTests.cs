using VqganClip.Models.AudioClip;
using VqganClip.Models.IO;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.AudioClip.AudioClipTestSupport;

namespace VqganClip.Tests.AudioClip;

/// <summary>The head built from state-dict shapes (published and tiny), the two file formats, Save, and loader errors naming tensors.</summary>
public sealed class AudioClipLoadTests : IDisposable
{
    static AudioClipLoadTests() => TransformerTestSupport.EnsureTorch();

    private readonly string _dir = TempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void Audio_published_head_has_upstreams_names_and_shapes_and_its_shapes_give_back_its_config()
    {
        using var model = new AudioClipModel(AudioHeadConfig.Published());
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(new long[] { 1025 }, shapes["audio.fbsp.m"]);
        Assert.Equal(new long[] { 0 }, shapes["audio.fbsp.bias"]);
        Assert.Equal(new long[] { 1654 }, shapes["audio.window"]);
        Assert.Equal(new long[] { 64, 3, 7, 7 }, shapes["audio.conv1.weight"]);
        Assert.Equal(new long[] { 128, 4, 3, 3 }, shapes["audio.layer1.0.conv2.weight"]); // 32 groups of 4
        Assert.Equal(new long[] { 2048, 1024, 1, 1 }, shapes["audio.layer4.2.conv3.weight"]);
        Assert.Equal(new long[] { 256, 64, 1, 1 }, shapes["audio.layer1.0.downsample.0.weight"]);
        Assert.False(shapes.ContainsKey("audio.layer1.1.downsample.0.weight"));
        Assert.Equal(new long[] { 64, 1, 3, 1 }, shapes["audio.att1.conv_depth.weight"]);
        Assert.Equal(new long[] { 2048, 1, 3, 5 }, shapes["audio.att5.conv_depth.weight"]);
        Assert.Equal(new long[] { 1024, 2048 }, shapes["audio.fc.weight"]);
        Assert.Equal(Array.Empty<long>(), shapes["logit_scale_ai"]);
        Assert.Equal(32_104_771, model.AudioParameterCount);
        Assert.Equal(100f, model.AudioImageScale, 3);

        var inferred = AudioHeadConfigInference.Infer(shapes, null, hopLength: null, normalized: null);
        Assert.Equal(AudioHeadConfig.Published().Describe(), inferred.Describe());
        Assert.Equal(561, inferred.HopLength);
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Audio_tiny_head_is_built_from_its_file_and_save_round_trips_with_the_hop_in_metadata()
    {
        using var model = Load();
        Assert.Equal("ESResNeXt-fbsp n_fft 256, hop 64, window 200, stem 8, blocks 3/4/6/3, widths 16/32/64/128, outputs 32/64/128/256, groups 4, attention on, embed 32",
            model.Config.Describe());
        var path = Path.Combine(_dir, "head.safetensors");
        AudioClipLoader.Save(model, path, withClip: false);
        using var again = AudioClipLoader.Load(path); // hop from the metadata, no CLIP in the file
        Assert.Null(again.Clip);
        Assert.Equal(model.Config.Describe(), again.Config.Describe());
        using var io = Io();
        using var noGrad = no_grad();
        using var a = model.EncodeAudio(io["inputs.audio"]);
        using var b = again.EncodeAudio(io["inputs.audio"]);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void Audio_loader_errors_name_the_tensor()
    {
        using var sd = SafeTensors.Read(Fixture("model.safetensors"));
        string Write(string name, Action<StateDict> edit)
        {
            var copy = new StateDict("safetensors");
            foreach (var (k, v) in sd.Entries) copy.Add(k, v.clone());
            edit(copy);
            var path = Path.Combine(_dir, name);
            SafeTensors.Write(path, copy.Entries.Select(kv => (kv.Key, kv.Value)), new Dictionary<string, string> { ["hop_length"] = "64" });
            copy.Dispose();
            return path;
        }
        var options = new AudioClipLoadOptions { LoadClip = false };
        string Error(string path) => Assert.Throws<CheckpointFormatException>(() => AudioClipLoader.Load(path, options)).Message;

        Assert.Contains("no tensor audio.fc.weight", Error(Write("nofc.safetensors", d => d.Remove("audio.fc.weight"))));
        Assert.Contains("missing audio.layer2.1.bn3.running_var", Error(Write("nobn.safetensors", d => d.Remove("audio.layer2.1.bn3.running_var"))));
        Assert.Contains("audio.att3.conv_point.weight: expected [128,64,1,1], got [128,64,1,2]",
            Error(Write("shape.safetensors", d => { d.Remove("audio.att3.conv_point.weight"); d.Add("audio.att3.conv_point.weight", zeros(128, 64, 1, 2)); })));
        Assert.Contains("unexpected audio.extra", Error(Write("extra.safetensors", d => d.Add("audio.extra", zeros(3)))));
        Assert.Contains("no audio.* tensors: not an AudioCLIP checkpoint",
            Error(Write("clip.safetensors", d => { foreach (var k in d.Keys.Where(k => k.StartsWith("audio.", StringComparison.Ordinal)).ToList()) d.Remove(k); })));
        var noHop = Path.Combine(_dir, "nohop.safetensors");
        SafeTensors.Write(noHop, sd.Entries.Select(kv => (kv.Key, kv.Value)));
        Assert.Contains("the hop length is not stored in the file and n_fft 256 / window 200 are not AudioCLIP's", Error(noHop));
    }
}
