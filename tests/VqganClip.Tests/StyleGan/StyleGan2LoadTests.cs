using VqganClip.Models.IO;
using VqganClip.Models.StyleGan2;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.StyleGan.StyleGanTestSupport;

namespace VqganClip.Tests.StyleGan;

/// <summary>Formats, round trip and loading errors of the StyleGAN2 loader.</summary>
public class StyleGan2LoadTests
{
    static StyleGan2LoadTests() => TransformerTestSupport.EnsureTorch();

    [Fact]
    public void The_pt_and_the_safetensors_hold_the_same_generator_and_the_pt_its_latent_avg()
    {
        using var pt = LoadTiny();
        using var st = LoadTiny("g_ema.safetensors");
        Assert.Equal(pt.Config.Channels, st.Config.Channels);
        var a = pt.state_dict();
        var b = st.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys) Assert.True(Same(a[key], b[key]), key);
        Assert.Contains("noises.noise_6", a.Keys);
        Assert.Contains("convs.0.conv.blur.kernel", a.Keys);
        Assert.Contains("to_rgbs.0.upsample.kernel", a.Keys);
        Assert.NotNull(pt.LatentAvg);
        Assert.Equal(new long[] { 32 }, pt.LatentAvg!.shape);
        var info = Checkpoint.Inspect(Fixture("stylegan2-tiny.pt"));
        Assert.All(info.Tensors, t => Assert.True(t.Name.StartsWith("g_ema.", StringComparison.Ordinal) || t.Name == "latent_avg", t.Name));
    }

    [Fact]
    public void Save_writes_a_file_that_reloads_identically_with_its_config()
    {
        var dir = TempDir();
        try
        {
            using var model = LoadTiny();
            var path = Path.Combine(dir, "g.safetensors");
            model.Save(path);
            using var back = StyleGan2Model.Load(path);
            Assert.Equal(model.Config.ToJson(), back.Config.ToJson());
            foreach (var (key, value) in model.state_dict()) Assert.True(Same(value, back.state_dict()[key]), key);
            Assert.True(Same(model.LatentAvg!, back.LatentAvg!));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Published_configs_build_upstreams_sizes()
    {
        var config = StyleGan2Config.Published(256);
        Assert.Equal(14, config.NLatent);
        Assert.Equal(13, config.NumLayers);
        Assert.Equal(new[] { 512, 512, 512, 512, 512, 256, 128 }, config.Channels);
        Assert.Equal(18, StyleGan2Config.Published(1024).NLatent);
        Assert.Equal(17, StyleGan2Config.Published(1024).NumLayers);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_named()
    {
        var dir = TempDir();
        try
        {
            using var sd = SafeTensors.Read(Fixture("g_ema.safetensors"));
            var tensors = sd.Keys.Select(k => (k, k == "convs.3.conv.modulation.weight" ? zeros(7, 32) : sd[k])).ToList();
            var path = Path.Combine(dir, "bad.safetensors");
            SafeTensors.Write(path, tensors);
            var e = Assert.Throws<CheckpointFormatException>(() => StyleGan2Model.Load(path));
            Assert.Contains("'convs.3.conv.modulation.weight'", e.Message);
            Assert.Contains("[7, 32]", e.Message);

            var missing = Path.Combine(dir, "missing.safetensors");
            SafeTensors.Write(missing, sd.Keys.Where(k => k != "noises.noise_3").Select(k => (k, sd[k])).ToList());
            var m = Assert.Throws<CheckpointFormatException>(() => StyleGan2Model.Load(missing));
            Assert.Contains("noises.noise_3", m.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Other_models_and_nvidia_pickles_are_refused_by_name()
    {
        var clip = Assert.Throws<CheckpointFormatException>(() => StyleGan2Model.Load(Fixture("clip-tiny224.safetensors")));
        Assert.Contains("not a rosinality StyleGAN2 generator", clip.Message);
        Assert.Contains("CLIP", clip.Message);

        var dir = TempDir();
        try
        {
            // The first bytes of NVIDIA's pickles: PROTO 2, then the classes they name.
            var tf = Path.Combine(dir, "stylegan2-ffhq-config-f.pkl");
            File.WriteAllBytes(tf, [0x80, 0x02, .. "cdnnlib.tflib.network\nNetwork\n"u8.ToArray()]);
            var e = Assert.Throws<CheckpointFormatException>(() => StyleGan2Model.Load(tf));
            Assert.Contains("NVIDIA TensorFlow StyleGAN", e.Message);
            Assert.Contains("convert_weight.py", e.Message);

            var ada = Path.Combine(dir, "ffhq.pkl");
            File.WriteAllBytes(ada, [0x80, 0x04, .. "\u0095\u0010ctorch_utils.persistence\n_reconstruct_persistent_obj\nG_ema"u8.ToArray()]);
            var a = Assert.Throws<CheckpointFormatException>(() => StyleGan2Model.Load(ada));
            Assert.Contains("stylegan2-ada-pytorch", a.Message);
            Assert.Contains("nothing was executed", a.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>The crafted torch zips (fixtures/stylegan2-crafted): g and d skipped unread, a bare-tensor latent file.</summary>
public class StyleGan2CraftedFileTests
{
    static StyleGan2CraftedFileTests() => TransformerTestSupport.EnsureTorch();

    private static string Crafted(string name) => TransformerTestSupport.Fixture("stylegan2-crafted", name);

    [Fact]
    public void A_checkpoint_with_g_and_d_loads_g_ema_without_reading_d()
    {
        var info = Checkpoint.Inspect(Crafted("g-ema-g-d.pt"));
        Assert.All(info.Tensors, t => Assert.True(t.Name.StartsWith("g_ema.", StringComparison.Ordinal) || t.Name == "latent_avg", t.Name));
        Assert.Equal("g,d,args", info.Metadata["checkpoint.skipped"]);
        using var model = StyleGan2Model.Load(Crafted("g-ema-g-d.pt"));   // d's storage is absent from the zip: never read
        using var reference = LoadTiny("g_ema.safetensors");
        foreach (var (key, value) in reference.state_dict()) Assert.True(Same(value, model.state_dict()[key]), key);
        Assert.Equal(0.5f, model.LatentAvg!.mean().item<float>());
    }

    [Fact]
    public void A_bare_tensor_file_is_a_latent_start()
    {
        using var model = LoadTiny();
        using var latent = VqganClip.Guidance.StyleClip.StyleGanLatentFile.Load(Crafted("latent.pt"), model);
        Assert.Equal(new long[] { 1, 8, 32 }, latent.shape);
        Assert.Equal(7f / 13f, latent[0, 0, 1].item<float>(), 6);
    }
}
