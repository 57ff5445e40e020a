using VqganClip.Models.IO;

namespace VqganClip.Tests.IO;

/// <summary>Format detection and data-free inspection of every fixture checkpoint.</summary>
public class CheckpointInspectTests
{
    [Theory]
    [InlineData("clip-vit-tiny/openai.safetensors", CheckpointFormats.SafeTensors)]
    [InlineData("clip-vit-tiny/hf_model.safetensors", CheckpointFormats.SafeTensors)]
    [InlineData("clip-vit-tiny/io.safetensors", CheckpointFormats.SafeTensors)]
    [InlineData("clip-vit-tiny/openai_state_dict.pt", CheckpointFormats.TorchZip)]
    [InlineData("clip-vit-tiny/openai_jit.pt", CheckpointFormats.TorchScript)]
    [InlineData("vqgan-f16-tiny/model.safetensors", CheckpointFormats.SafeTensors)]
    [InlineData("vqgan-f16-tiny/io.safetensors", CheckpointFormats.SafeTensors)]
    [InlineData("vqgan-f16-tiny/last.ckpt", CheckpointFormats.TorchZip)]
    [InlineData("vqgan-f16-tiny/last_legacy.ckpt", CheckpointFormats.TorchLegacy)]
    public void Every_fixture_is_recognised_and_inspected(string file, string format)
    {
        var path = Path.Combine(IoFixtures.Dir, file);
        Assert.Equal(format, Checkpoint.DetectFormat(path));
        var info = Checkpoint.Inspect(path);
        Assert.Equal(format, info.Format);
        Assert.NotEmpty(info.Tensors);
        Assert.All(info.Tensors, t => Assert.All(t.Shape, d => Assert.True(d >= 0)));
    }

    private static HashSet<string> Describe(CheckpointInfo info) =>
        info.Tensors.Select(t => $"{t.Name} {t.DType} {t.ShapeText}").ToHashSet();

    [Fact]
    public void Clip_in_three_formats_has_the_same_names_dtypes_and_shapes()
    {
        var safetensors = Checkpoint.Inspect(IoFixtures.Clip("openai.safetensors"));
        var zip = Checkpoint.Inspect(IoFixtures.Clip("openai_state_dict.pt"));
        var jit = Checkpoint.Inspect(IoFixtures.Clip("openai_jit.pt"));
        Assert.Equal(Describe(safetensors), Describe(zip));
        Assert.Equal(Describe(safetensors), Describe(jit));
        // torch.save keeps state_dict order; TorchScript attribute order is the same module order.
        Assert.Equal(zip.Tensors.Select(t => t.Name), jit.Tensors.Select(t => t.Name));
        Assert.Contains(jit.Tensors, t => t.Name == "transformer.resblocks.0.attn.in_proj_weight");
        Assert.Contains(jit.Tensors, t => t.Name == "visual.conv1.weight");
        Assert.Contains(jit.Tensors, t => t.Name == "logit_scale" && t.Shape.Length == 0);
        Assert.Equal("__torch__.clip.model.CLIP", jit.Metadata["torchscript.class"]);
    }

    [Fact]
    public void Vqgan_lightning_checkpoints_hold_the_model_plus_loss_tensors_and_metadata()
    {
        var model = Checkpoint.Inspect(IoFixtures.Vqgan("model.safetensors"));
        var zip = Checkpoint.Inspect(IoFixtures.Vqgan("last.ckpt"));
        var legacy = Checkpoint.Inspect(IoFixtures.Vqgan("last_legacy.ckpt"));

        Assert.Equal(Describe(zip), Describe(legacy));
        Assert.Equal(zip.Tensors.Select(t => t.Name), legacy.Tensors.Select(t => t.Name));
        Assert.Subset(Describe(zip), Describe(model));
        var extra = Describe(zip).Except(Describe(model)).ToList();
        Assert.NotEmpty(extra);
        Assert.All(extra, e => Assert.StartsWith("loss.", e));

        foreach (var info in new[] { zip, legacy })
        {
            Assert.Equal("7", info.Metadata["epoch"]);
            Assert.Equal("1234", info.Metadata["global_step"]);
            Assert.Equal("1.0.8", info.Metadata["pytorch-lightning_version"]);
        }
    }
}
