using System.Text.Json.Nodes;
using VqganClip.Models.BigGan;
using VqganClip.Models.IO;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.BigGan.BigGanTestSupport;

namespace VqganClip.Tests.BigGan;

/// <summary>Formats (legacy .bin, safetensors, Save round trip), configuration sources and the loader's errors.</summary>
public class BigGanLoadTests
{
    static BigGanLoadTests() => TransformerTestSupport.EnsureTorch();

    private static void AssertSameTensors(BigGanModel a, BigGanModel b)
    {
        var sa = a.state_dict();
        var sb = b.state_dict();
        Assert.Equal(sa.Keys, sb.Keys);
        foreach (var (name, tensor) in sa)
        {
            Assert.Equal(tensor.shape, sb[name].shape);
            Assert.True(tensor.eq(sb[name]).all().item<bool>(), $"tensor {name} differs");
        }
    }

    [Fact]
    public void Bin_and_safetensors_load_to_identical_tensors_with_the_upstream_key_set()
    {
        using var fromBin = LoadDeep("pytorch_model.bin");
        using var fromSafetensors = LoadDeep("model.safetensors");
        AssertSameTensors(fromBin, fromSafetensors);
        var fileKeys = Checkpoint.Inspect(Fixture(Deep, "model.safetensors")).Tensors.Select(t => t.Name).OrderBy(k => k, StringComparer.Ordinal);
        Assert.Equal(fileKeys, fromBin.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(32, fromBin.ImageSize);
        Assert.Equal(7, fromBin.NumLatents);
    }

    [Fact]
    public void Save_then_load_round_trips_exactly_with_the_config_beside_and_in_metadata()
    {
        using var model = LoadDeep();
        var dir = TempDir();
        var path = Path.Combine(dir, "model.safetensors");
        model.Save(path);
        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.Equal(model.Config, BigGanConfig.FromJsonFile(Path.Combine(dir, "config.json")));
        using var reloaded = BigGanModel.Load(path);
        AssertSameTensors(model, reloaded);

        // Without the config.json, the copy in the safetensors metadata is used.
        File.Delete(Path.Combine(dir, "config.json"));
        using var fromMetadata = BigGanModel.Load(path);
        AssertSameTensors(model, fromMetadata);

        // Our ToJson writes upstream's to_json_string() byte for byte, and reads back.
        var upstream = BigGanConfig.FromJsonFile(Fixture(Deep, "config.json"));
        Assert.Equal(File.ReadAllText(Fixture(Deep, "config.json")), upstream.ToJson());
        Assert.Equal(upstream, BigGanConfig.FromJson(upstream.ToJson()));
    }

    [Fact]
    public void Config_inferred_from_shapes_matches_config_json_given_the_up_sampling_flags()
    {
        var upstream = BigGanConfig.FromJsonFile(Fixture(Deep, "config.json"));
        using var sd = Checkpoint.Load(Fixture(Deep, "pytorch_model.bin"));
        var inferred = BigGanConfig.InferFromStateDict(sd, upstream.Layers.Select(l => l.UpSample).ToList());
        Assert.Equal(upstream, inferred);
        Assert.Equal(4, inferred.AttentionLayerPosition);
        Assert.Equal(5, inferred.ModuleIndexOfBlock(4));
    }

    [Fact]
    public void A_config_that_disagrees_with_the_weights_names_the_tensor_and_both_shapes()
    {
        var dir = TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Fixture(Deep, "config.json")))!;
        json["channel_width"] = 8;
        var configPath = Path.Combine(dir, "config.json");
        File.WriteAllText(configPath, json.ToJsonString());
        var e = Assert.Throws<CheckpointFormatException>(() => BigGanModel.Load(Fixture(Deep, "pytorch_model.bin"), configPath));
        // gen_z.bias comes first in state_dict order (PyTorch's spectral norm registers weight_orig after it).
        Assert.Contains("tensor 'generator.gen_z.bias' has shape [1024] in the checkpoint but the configuration", e.Message);
        Assert.Contains("expects [2048]", e.Message);

        // A different attention position: the module indices no longer match.
        json["channel_width"] = 4;
        json["attention_layer_position"] = 2;
        File.WriteAllText(configPath, json.ToJsonString());
        var e2 = Assert.Throws<CheckpointFormatException>(() => BigGanModel.Load(Fixture(Deep, "pytorch_model.bin"), configPath));
        Assert.Contains("generator.layers.", e2.Message);
    }

    [Theory]
    [InlineData("z_dim")]
    [InlineData("layers")]
    [InlineData("n_stats")]
    public void A_config_without_a_key_names_it(string key)
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixture(Deep, "config.json")))!.AsObject();
        json.Remove(key);
        var e = Assert.Throws<FormatException>(() => BigGanConfig.FromJson(json.ToJsonString(), "test.json"));
        Assert.Contains($"'{key}' is missing", e.Message);
    }

    [Fact]
    public void A_wrong_output_dim_is_named()
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixture(Deep, "config.json")))!.AsObject();
        json["output_dim"] = 64;
        var e = Assert.Throws<ArgumentException>(() => BigGanConfig.FromJson(json.ToJsonString(), "test.json"));
        Assert.Contains("output_dim is 64", e.Message);
    }

    [Theory]
    [InlineData("vqgan-f16-tiny", "model.safetensors", "VQGAN")]
    [InlineData("vqgan-f16-tiny", "last_legacy.ckpt", "VQGAN")]
    [InlineData("clip-vit-tiny", "openai.safetensors", "CLIP")]
    public void Another_models_file_is_not_a_biggan(string fixture, string file, string looksLike)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => BigGanModel.Load(TransformerTestSupport.Fixture(fixture, file), Fixture(Deep, "config.json")));
        Assert.Contains("not a BigGAN", e.Message);
        Assert.Contains(looksLike, e.Message);
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("model.safetensors")]
    public void A_truncated_file_is_a_clear_error(string file)
    {
        var dir = TempDir();
        var bytes = File.ReadAllBytes(Fixture(Deep, file));
        var path = Path.Combine(dir, file);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        File.Copy(Fixture(Deep, "config.json"), Path.Combine(dir, "config.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => BigGanModel.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Missing_files_and_a_missing_config_are_named()
    {
        Assert.Throws<FileNotFoundException>(() => BigGanModel.Load(Path.Combine(TempDir(), "pytorch_model.bin")));
        var dir = TempDir();
        var path = Path.Combine(dir, "pytorch_model.bin");
        File.Copy(Fixture(Deep, "pytorch_model.bin"), path);
        var e = Assert.Throws<CheckpointFormatException>(() => BigGanModel.Load(path));
        Assert.Contains("no BigGAN configuration", e.Message);
    }

    [Fact]
    public void Published_file_names_find_their_config()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "biggan-deep-tiny-pytorch_model.bin");
        File.Copy(Fixture(Deep, "pytorch_model.bin"), path);
        File.Copy(Fixture(Deep, "config.json"), Path.Combine(dir, "biggan-deep-tiny-config.json"));
        using var model = BigGanModel.Load(path);
        Assert.Equal(16, model.Config.ZDim);
    }
}

/// <summary>A model loaded inside a caller's dispose scope outlives it (parameters, buffers and folded weights alike).</summary>
public class BigGanDisposeScopeTests
{
    static BigGanDisposeScopeTests() => TransformerTestSupport.EnsureTorch();

    [Fact]
    public void A_model_loaded_inside_a_dispose_scope_still_works_after_it()
    {
        BigGanModel model;
        using (NewDisposeScope())
        {
            model = LoadDeep();
            using var z0 = zeros(1, 16);
            using var c0 = zeros(1, 10);
            using var noGrad0 = no_grad();
            model.Forward(z0, c0, 0.5).Dispose();
        }
        using (model)
        {
            using var z = zeros(1, 16);
            using var c = zeros(1, 10);
            using var noGrad = no_grad();
            using var image = model.Forward(z, c, 0.5);
            Assert.True(image.isfinite().all().item<bool>());
            foreach (var (_, layer) in model.SpectralNormLayers())
                Assert.False(layer.WeightU.IsInvalid);
        }
    }
}
