using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Tests.Vqgan.VqganTestSupport;

namespace VqganClip.Tests.Vqgan;

/// <summary>
/// The tiny taming VQModel in fixtures/vqgan-f16-tiny, opened from each file format, against the outputs
/// the reference Python code recorded in io.safetensors (see its manifest.json).
/// </summary>
public sealed class VqganFixtureParityTests
{
    public VqganFixtureParityTests() => EnsureTorch();

    public static TheoryData<string> Sources => new()
    {
        "model.safetensors+model.yaml",
        "last.ckpt",          // Lightning zip; model.yaml beside it is found; loss.* tensors ignored
        "last_legacy.ckpt",   // legacy (non-zip) torch.save
        "model.safetensors alone (configuration inferred)",
    };

    private static VqganModel Open(string source)
    {
        switch (source)
        {
            case "model.safetensors+model.yaml":
                return VqganModel.Load(Fixture("model.safetensors"), Fixture("model.yaml"));
            case "last.ckpt":
            case "last_legacy.ckpt":
                return VqganModel.Load(Fixture(source));
            default:
            {
                var dir = TempDir();
                var copy = Path.Combine(dir, "weights.safetensors");
                File.Copy(Fixture("model.safetensors"), copy);
                var model = VqganModel.Load(copy);
                Assert.True(model.Config.ResolutionAssumed);
                Directory.Delete(dir, true);
                return model;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Matches_reference_outputs(string source)
    {
        using var model = Open(source);
        using var io = SafeTensors.Read(Fixture("io.safetensors"));
        var image = io["inputs.image"];
        var zRandom = io["inputs.z_random"];

        using (no_grad())
        {
            using var h = model.Encode(image);
            AssertClose(io["outputs.h"], h, $"{source}: h");

            var (zq, indices) = model.Quantize(h);
            using (zq)
            using (indices)
            {
                AssertIdentical(io["outputs.indices"], indices, $"{source}: indices");
                AssertClose(io["outputs.z_q"], zq, $"{source}: z_q");
                using var decoded = model.Decode(zq);
                AssertClose(io["outputs.decoded"], decoded, $"{source}: decoded");

                var shape = new[] { zq.shape[0], zq.shape[2], zq.shape[3], zq.shape[1] };
                using var fromIndices = model.DecodeIndices(io["outputs.indices"], shape);
                AssertClose(io["outputs.decoded_from_indices"], fromIndices, $"{source}: decoded_from_indices");
            }

            // taming's encode(x) path gives the same quantization for a VQModel.
            var (zqEncoded, indicesEncoded) = model.EncodeQuantized(image);
            using (zqEncoded)
            using (indicesEncoded)
            {
                AssertIdentical(io["outputs.indices"], indicesEncoded, $"{source}: encode() indices");
                AssertClose(io["outputs.z_q"], zqEncoded, $"{source}: encode() z_q");
            }

            using var decodedRandom = model.Decode(zRandom);
            AssertClose(io["outputs.decoded_random"], decodedRandom, $"{source}: decoded_random");

            var (zqRandom, indicesRandom) = model.Quantize(zRandom);
            using (zqRandom)
            using (indicesRandom)
            {
                AssertIdentical(io["outputs.quantize_random.indices"], indicesRandom, $"{source}: quantize_random.indices");
                AssertClose(io["outputs.quantize_random.z_q"], zqRandom, $"{source}: quantize_random.z_q");
            }
        }

        using var z = zRandom.clone().requires_grad_(true);
        using var output = model.Decode(z);
        using var loss = output.pow(2).mean();
        loss.backward();
        Assert.NotNull(z.grad);
        AssertClose(io["outputs.z_grad"], z.grad!, $"{source}: z_grad");
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Yaml_config_matches_the_manifest()
    {
        var config = VqganConfig.FromYaml(Fixture("model.yaml"));
        Assert.Equal(VqganKind.VQModel, config.Kind);
        Assert.Equal(16, config.EmbedDim);
        Assert.Equal(64, config.NEmbed);
        var d = config.DdConfig;
        Assert.False(d.DoubleZ);
        Assert.Equal(16, d.ZChannels);
        Assert.Equal(64, d.Resolution);
        Assert.Equal(32, d.Ch);
        Assert.Equal(new[] { 1, 1, 1, 1, 2 }, d.ChMult);
        Assert.Equal(1, d.NumResBlocks);
        Assert.Equal(new[] { 4 }, d.AttnResolutions);
        Assert.Equal(16, config.DownsamplingFactor);
        Assert.False(config.ResolutionAssumed);
        Assert.Equal(Path.GetFullPath(Fixture("model.yaml")), config.Source);
    }

    [Fact]
    public void Inferred_config_builds_the_same_network_as_the_yaml()
    {
        var fromYaml = VqganConfig.FromYaml(Fixture("model.yaml"));
        using var sd = SafeTensors.Read(Fixture("model.safetensors"));
        var inferred = VqganConfig.InferFromStateDict(sd);

        Assert.Equal(fromYaml.Kind, inferred.Kind);
        Assert.Equal(fromYaml.EmbedDim, inferred.EmbedDim);
        Assert.Equal(fromYaml.NEmbed, inferred.NEmbed);
        Assert.Equal(fromYaml.DdConfig.Ch, inferred.DdConfig.Ch);
        Assert.Equal(fromYaml.DdConfig.ChMult, inferred.DdConfig.ChMult);
        Assert.Equal(fromYaml.DdConfig.NumResBlocks, inferred.DdConfig.NumResBlocks);
        Assert.Equal(fromYaml.DdConfig.ZChannels, inferred.DdConfig.ZChannels);
        Assert.Equal(fromYaml.DdConfig.DoubleZ, inferred.DdConfig.DoubleZ);
        Assert.Equal(fromYaml.DdConfig.InChannels, inferred.DdConfig.InChannels);
        Assert.Equal(fromYaml.DdConfig.OutCh, inferred.DdConfig.OutCh);
        // Resolution is not in the weights: 256 is assumed and attn_resolutions named for it (64 -> 4 is 256 -> 16).
        Assert.True(inferred.ResolutionAssumed);
        Assert.Equal(256, inferred.DdConfig.Resolution);
        Assert.Equal(new[] { 16 }, inferred.DdConfig.AttnResolutions);
        Assert.Equal(fromYaml.DdConfig.EncoderAttentionLevels(), inferred.DdConfig.EncoderAttentionLevels());
        Assert.Equal(fromYaml.DdConfig.DecoderAttentionLevels(), inferred.DdConfig.DecoderAttentionLevels());
        Assert.True(VqganConfig.TryInferFromStateDict(sd, out var again, out var problem));
        Assert.Null(problem);
        Assert.Equal(inferred.NEmbed, again!.NEmbed);
    }

    [Fact]
    public void Net2NetTransformer_checkpoint_opens_its_first_stage()
    {
        // A COCO/FacesHQ-style checkpoint: the VQGAN under first_stage_model., next to transformer and cond-stage tensors.
        var dir = TempDir();
        try
        {
            using var sd = SafeTensors.Read(Fixture("model.safetensors"));
            var tensors = sd.Entries.Select(kv => ("first_stage_model." + kv.Key, kv.Value)).ToList();
            using var extra1 = zeros(4, 4);
            using var extra2 = zeros(3);
            tensors.Add(("transformer.tok_emb.weight", extra1));
            tensors.Add(("cond_stage_model.encoder.conv_in.bias", extra2));
            var ckpt = Path.Combine(dir, "last.safetensors");
            SafeTensors.Write(ckpt, tensors);

            var fixtureYaml = File.ReadAllText(Fixture("model.yaml"));
            var inner = string.Join("\n", fixtureYaml.Split('\n').Skip(1).Select(l => "      " + l));  // drop "model:", nest under first_stage_config
            var yaml = $"""
                model:
                  base_learning_rate: 4.5e-06
                  target: taming.models.cond_transformer.Net2NetTransformer
                  params:
                    cond_stage_config: __is_unconditional__
                    transformer_config:
                      target: taming.modules.transformer.mingpt.GPT
                      params: {"{"}vocab_size: 64, block_size: 256, n_layer: 2, n_head: 2, n_embd: 32{"}"}
                    first_stage_config:
                """ + "\n" + inner + "\n";
            var yamlPath = Path.Combine(dir, "2021-01-01T00-00-00-project.yaml");
            File.WriteAllText(yamlPath, yaml);

            var config = VqganConfig.FromYaml(yamlPath);
            Assert.Equal("first_stage_model.", config.StateDictPrefix);
            Assert.Equal(64, config.NEmbed);

            using var fromYaml = VqganModel.Load(ckpt);   // finds the *-project.yaml beside it
            Assert.Equal(Path.GetFullPath(yamlPath), fromYaml.Config.Source);
            File.Delete(yamlPath);
            using var inferred = VqganModel.Load(ckpt);
            Assert.True(inferred.Config.ResolutionAssumed);

            using var io = SafeTensors.Read(Fixture("io.safetensors"));
            using (no_grad())
            {
                using var a = fromYaml.Decode(io["inputs.z_random"]);
                using var b = inferred.Decode(io["inputs.z_random"]);
                AssertClose(io["outputs.decoded_random"], a, "Net2Net first stage (yaml)");
                AssertClose(io["outputs.decoded_random"], b, "Net2Net first stage (inferred)");
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Model_facts()
    {
        using var model = VqganModel.Load(Fixture("model.safetensors"), Fixture("model.yaml"));
        Assert.Equal(16, model.DownsamplingFactor);
        Assert.Equal(new long[] { 64, 16 }, model.Codebook.shape);
        Assert.Equal((16, 4, 4), model.LatentShape(64, 64));
        Assert.Equal((16, 32, 20), model.LatentShape(512, 330));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.LatentShape(8, 64));
        Assert.False(model.training);
    }
}
