using TorchSharp;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.IO;

/// <summary>Loading tensor data: every format of one model gives bit-identical tensors.</summary>
public class CheckpointLoadTests
{
    private static void AssertSameTensors(StateDict expected, StateDict actual, IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            Assert.True(actual.ContainsKey(name), $"{actual.Describe()} lacks '{name}'");
            Assert.True(IoFixtures.BitEqual(expected[name], actual[name]), $"'{name}' differs between {expected.Describe()} and {actual.Describe()}");
        }
    }

    [Fact]
    public void Clip_safetensors_state_dict_zip_and_torchscript_give_identical_tensors()
    {
        using var safetensors = Checkpoint.Load(IoFixtures.Clip("openai.safetensors"));
        using var zip = Checkpoint.Load(IoFixtures.Clip("openai_state_dict.pt"));
        using var jit = Checkpoint.Load(IoFixtures.Clip("openai_jit.pt"));
        Assert.Equal(CheckpointFormats.TorchZip, zip.Format);
        Assert.Equal(CheckpointFormats.TorchScript, jit.Format);
        Assert.Equal(safetensors.Keys.OrderBy(k => k, StringComparer.Ordinal), zip.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(safetensors.Keys.OrderBy(k => k, StringComparer.Ordinal), jit.Keys.OrderBy(k => k, StringComparer.Ordinal));
        AssertSameTensors(safetensors, zip, safetensors.Keys);
        AssertSameTensors(safetensors, jit, safetensors.Keys);
        Assert.Equal(2.6593f, jit["logit_scale"].item<float>(), 3); // ln(1/0.07), CLIP's initial logit scale
    }

    [Fact]
    public void Vqgan_safetensors_lightning_zip_and_legacy_give_identical_tensors()
    {
        using var model = Checkpoint.Load(IoFixtures.Vqgan("model.safetensors"));
        using var zip = Checkpoint.Load(IoFixtures.Vqgan("last.ckpt"));
        using var legacy = Checkpoint.Load(IoFixtures.Vqgan("last_legacy.ckpt"));
        Assert.Equal(CheckpointFormats.TorchLegacy, legacy.Format);
        AssertSameTensors(model, zip, model.Keys);
        AssertSameTensors(zip, legacy, zip.Keys);
        Assert.Equal(zip.Keys, legacy.Keys);
        Assert.Contains(zip.Keys, k => k.StartsWith("loss.", StringComparison.Ordinal));
        Assert.Equal("7", zip.Metadata["epoch"]);
        Assert.Equal("1234", legacy.Metadata["global_step"]);
    }

    [Fact]
    public void Load_with_a_filter_reads_only_matching_tensors()
    {
        using var sd = Checkpoint.Load(IoFixtures.Vqgan("last.ckpt"), n => !n.StartsWith("loss.", StringComparison.Ordinal));
        using var model = Checkpoint.Load(IoFixtures.Vqgan("model.safetensors"));
        Assert.Equal(model.Keys.OrderBy(k => k, StringComparer.Ordinal), sd.Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void Views_offsets_and_strides_into_one_storage_are_honoured_and_shared()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("views.pt");
        var pickle = new PickleBytes().EmptyDict()
            .Str("matrix").FloatTensor("s", 6, 0, [2, 3], [3, 1]).SetItem()
            .Str("odd").FloatTensor("s", 6, 1, [3], [2]).SetItem()
            .Str("transposed").FloatTensor("s", 6, 0, [3, 2], [1, 3]).SetItem()
            .Str("scalar").FloatTensor("s", 6, 5, [], []).SetItem()
            .Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, top: "views", records: new Dictionary<string, byte[]> { ["data/s"] = PickleBytesExtensions.Floats(0, 1, 2, 3, 4, 5) });

        using var sd = Checkpoint.Load(path);
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, sd["matrix"].data<float>().ToArray());
        Assert.Equal(new float[] { 1, 3, 5 }, sd["odd"].data<float>().ToArray());
        Assert.Equal([3L, 2L], sd["transposed"].shape);
        Assert.True(sd["transposed"].eq(sd["matrix"].t()).all().item<bool>());
        Assert.Equal(5f, sd["scalar"].item<float>());

        // One storage, as torch.load gives it: writing through one view shows through the others.
        using (torch.no_grad()) sd["matrix"][0, 1] = torch.tensor(42f);
        Assert.Equal(42f, sd["odd"][0].item<float>());
    }

    [Fact]
    public void Half_bfloat16_int64_and_bool_storages_load_with_their_dtypes()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("dtypes.pt");
        var pickle = new PickleBytes().EmptyDict()
            .Str("h").FloatTensor("h", 2, 0, [2], [1], "HalfStorage").SetItem()
            .Str("bf").FloatTensor("bf", 2, 0, [2], [1], "BFloat16Storage").SetItem()
            .Str("l").FloatTensor("l", 1, 0, [1], [1], "LongStorage").SetItem()
            .Str("b").FloatTensor("b", 3, 0, [3], [1], "BoolStorage").SetItem()
            .Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, records: new Dictionary<string, byte[]>
        {
            ["data/h"] = [0x00, 0x3c, 0x00, 0xc0],  // 1.0, -2.0 in IEEE half
            ["data/bf"] = [0x80, 0x3f, 0x40, 0x40], // 1.0, 3.0 in bfloat16
            ["data/l"] = BitConverter.GetBytes(-7L),
            ["data/b"] = [1, 0, 1],
        });
        using var sd = Checkpoint.Load(path);
        Assert.Equal(ScalarType.Float16, sd["h"].dtype);
        Assert.Equal(new float[] { 1, -2 }, sd["h"].to_type(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, sd["bf"].dtype);
        Assert.Equal(new float[] { 1, 3 }, sd["bf"].to_type(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(-7L, sd["l"].item<long>());
        Assert.Equal(new[] { true, false, true }, sd["b"].data<bool>().ToArray());
    }

    [Fact]
    public void Loaded_tensors_survive_a_callers_dispose_scope()
    {
        StateDict sd;
        using (torch.NewDisposeScope())
        {
            sd = Checkpoint.Load(IoFixtures.Clip("openai_state_dict.pt"));
        }
        using (sd)
        {
            Assert.False(sd["positional_embedding"].IsInvalid);
            Assert.Equal([77L, 16L], sd["positional_embedding"].shape);
        }
    }

    [Fact]
    public void A_recompressed_zip_still_loads()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("deflated.pt");
        var pickle = new PickleBytes().EmptyDict().Str("w").FloatTensor("0", 4, 0, [2, 2], [2, 1]).SetItem().Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, records: new Dictionary<string, byte[]> { ["data/0"] = PickleBytesExtensions.Floats(1, 2, 3, 4) }, compress: true);
        using var sd = Checkpoint.Load(path);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, sd["w"].data<float>().ToArray());
    }
}
