using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Tests.Vqgan.VqganTestSupport;

namespace VqganClip.Tests.Vqgan;

/// <summary>Bad inputs end in messages that name the problem.</summary>
public sealed class VqganErrorTests
{
    public VqganErrorTests() => EnsureTorch();

    [Fact]
    public void Config_that_disagrees_with_the_checkpoint_names_the_tensor()
    {
        var dir = TempDir();
        try
        {
            var yaml = File.ReadAllText(Fixture("model.yaml")).Replace("z_channels: 16", "z_channels: 8");
            var yamlPath = Path.Combine(dir, "wrong.yaml");
            File.WriteAllText(yamlPath, yaml);
            var e = Assert.Throws<CheckpointFormatException>(() => VqganModel.Load(Fixture("model.safetensors"), yamlPath));
            Assert.Contains("encoder.conv_out.weight", e.Message);
            Assert.Contains("[16, 64, 3, 3]", e.Message);   // in the checkpoint
            Assert.Contains("[8, 64, 3, 3]", e.Message);    // what the config builds
            Assert.Contains("wrong.yaml", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Config_without_the_checkpoints_attention_names_the_extra_tensor()
    {
        var dir = TempDir();
        try
        {
            var yaml = File.ReadAllText(Fixture("model.yaml")).Replace("attn_resolutions:\n      - 4", "attn_resolutions: []");
            Assert.Contains("attn_resolutions: []", yaml);
            var yamlPath = Path.Combine(dir, "noattn.yaml");
            File.WriteAllText(yamlPath, yaml);
            var e = Assert.Throws<CheckpointFormatException>(() => VqganModel.Load(Fixture("model.safetensors"), yamlPath));
            Assert.Contains("decoder.up.4.attn.0", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        using var sd = SafeTensors.Read(Fixture("model.safetensors"));
        var config = VqganConfig.FromYaml(Fixture("model.yaml"));
        sd.Remove("decoder.up.2.block.1.conv2.bias");
        var e = Assert.Throws<CheckpointFormatException>(() => VqganModel.FromStateDict(sd, config));
        Assert.Contains("decoder.up.2.block.1.conv2.bias", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Surplus_vqgan_tensors_are_refused_and_named_but_taming_ignores_are_ignored()
    {
        using var sd = SafeTensors.Read(Fixture("model.safetensors"));
        var config = VqganConfig.FromYaml(Fixture("model.yaml"));
        // What taming's strict=False load ignores: a discriminator (loss.*) and an unused remap buffer.
        sd.Add("loss.discriminator.main.0.weight", zeros(2, 3));
        sd.Add("quantize.used", zeros(4, dtype: int64));
        using (var model = VqganModel.FromStateDict(sd, config)) Assert.NotNull(model);

        sd.Add("encoder.extra.weight", zeros(2));
        sd.Add("decoder.extra.bias", zeros(2));
        var e = Assert.Throws<CheckpointFormatException>(() => VqganModel.FromStateDict(sd, config));
        Assert.Contains("2 VQGAN tensors of the checkpoint have no place", e.Message);
        Assert.Contains("first 'encoder.extra.weight' (also decoder.extra.bias)", e.Message);
    }

    [Fact]
    public void Inference_names_what_is_missing()
    {
        using var sd = SafeTensors.Read(Fixture("model.safetensors"));
        sd.Remove("quantize.embedding.weight");
        Assert.False(VqganConfig.TryInferFromStateDict(sd, out var config, out var problem));
        Assert.Null(config);
        Assert.Contains("quantize.embedding.weight", problem);
        var e = Assert.Throws<InvalidDataException>(() => VqganConfig.InferFromStateDict(sd));
        Assert.Contains("quantize.embedding.weight", e.Message);
    }

    [Fact]
    public void Non_taming_yaml_says_what_is_missing()
    {
        var e = Assert.Throws<InvalidDataException>(() => VqganConfig.FromYaml("name: my-project\nversion: 3\n"));
        Assert.Contains("not a taming-transformers config", e.Message);
        Assert.Contains("model", e.Message);

        var noDd = Assert.Throws<InvalidDataException>(() => VqganConfig.FromYaml(
            "model:\n  target: taming.models.vqgan.VQModel\n  params:\n    embed_dim: 4\n    n_embed: 8\n"));
        Assert.Contains("model.params.ddconfig", noDd.Message);

        var noCh = Assert.Throws<InvalidDataException>(() => VqganConfig.FromYaml(
            File.ReadAllText(Fixture("model.yaml")).Replace("      ch: 32\n", "")));
        Assert.Contains("model.params.ddconfig.ch", noCh.Message);

        var notYaml = Assert.Throws<InvalidDataException>(() => VqganConfig.FromYaml("model: [unclosed\n  target: x"));
        Assert.Contains("not valid YAML", notYaml.Message);

        Assert.Throws<FileNotFoundException>(() => VqganConfig.FromYaml("/nonexistent/vqgan.yaml"));
    }

    [Fact]
    public void Unsupported_target_is_named()
    {
        var yaml = File.ReadAllText(Fixture("model.yaml")).Replace("taming.models.vqgan.VQModel", "taming.models.vqgan.VQSegmentationModel");
        var e = Assert.Throws<InvalidDataException>(() => VqganConfig.FromYaml(yaml));
        Assert.Contains("VQSegmentationModel", e.Message);
        Assert.Contains("not supported", e.Message);
    }

    [Fact]
    public void Clip_checkpoint_given_as_vqgan_is_recognised()
    {
        var clip = Path.Combine(AppContext.BaseDirectory, "fixtures", "clip-vit-tiny", "openai.safetensors");
        var e = Assert.Throws<CheckpointFormatException>(() => VqganModel.Load(clip));
        Assert.Contains("CLIP", e.Message);
        Assert.Contains("openai.safetensors", e.Message);
    }

    [Fact]
    public void Gumbel_config_for_a_vq_checkpoint_is_refused_clearly()
    {
        var yaml = File.ReadAllText(Fixture("model.yaml")).Replace("taming.models.vqgan.VQModel", "taming.models.vqgan.GumbelVQ");
        var e = Assert.Throws<CheckpointFormatException>(() =>
        {
            using var sd = SafeTensors.Read(Fixture("model.safetensors"));
            VqganModel.FromStateDict(sd, VqganConfig.FromYaml(yaml));
        });
        Assert.Contains("GumbelVQ", e.Message);
        Assert.Contains("quantize.embedding.weight", e.Message);
    }

    [Fact]
    public void Wrong_inputs_are_refused_with_shapes()
    {
        using var model = VqganModel.Load(Fixture("model.safetensors"), Fixture("model.yaml"));
        using var gray = zeros(1, 1, 64, 64);
        Assert.Contains("[1, 1, 64, 64]", Assert.Throws<ArgumentException>(() => model.Encode(gray)).Message);
        using var latent = zeros(1, 8, 4, 4);
        Assert.Contains("16", Assert.Throws<ArgumentException>(() => model.Decode(latent)).Message);
        using var indices = tensor(new long[] { 0, 1, 2 });
        Assert.Throws<ArgumentException>(() => model.DecodeIndices(indices, new long[] { 1, 2, 2, 16 }));
        using var outOfRange = tensor(new long[] { 0, 1, 2, 64 });
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DecodeIndices(outOfRange, new long[] { 1, 2, 2, 16 }));
        Assert.Throws<FileNotFoundException>(() => VqganModel.Load("/nonexistent/vqgan.ckpt"));
    }

    [Fact]
    public void Config_is_discovered_in_tamings_log_layout()
    {
        var dir = TempDir();
        try
        {
            var checkpoints = Directory.CreateDirectory(Path.Combine(dir, "2021-04-03T19-39-50_cin_transformer", "checkpoints")).FullName;
            var configs = Directory.CreateDirectory(Path.Combine(dir, "2021-04-03T19-39-50_cin_transformer", "configs")).FullName;
            var ckpt = Path.Combine(checkpoints, "last.ckpt");
            File.WriteAllText(ckpt, "");
            Assert.Null(VqganConfigDiscovery.FindBeside(ckpt));
            File.WriteAllText(Path.Combine(configs, "2021-04-03T19-39-50-lightning.yaml"), "");
            File.WriteAllText(Path.Combine(configs, "2021-04-03T19-39-50-project.yaml"), "");
            File.WriteAllText(Path.Combine(configs, "2021-04-04T10-00-00-project.yaml"), "");
            Assert.Equal(Path.Combine(configs, "2021-04-04T10-00-00-project.yaml"), VqganConfigDiscovery.FindBeside(ckpt));
            File.WriteAllText(Path.Combine(checkpoints, "last.yaml"), "");
            Assert.Equal(Path.Combine(checkpoints, "last.yaml"), VqganConfigDiscovery.FindBeside(ckpt));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
