using System.Buffers.Binary;
using System.Text;
using TorchSharp;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.IO;

public class SafeTensorsTests
{
    [Fact]
    public void ReadHeader_lists_names_dtypes_and_shapes_without_data()
    {
        var header = SafeTensors.ReadHeader(IoFixtures.Clip("openai.safetensors"));
        var byName = header.Tensors.ToDictionary(t => t.Name, t => t.Info);
        Assert.Equal([77L, 16L], byName["positional_embedding"].Shape);
        Assert.Equal("F32", byName["logit_scale"].DType.SafeTensorsName);
        Assert.Empty(byName["logit_scale"].Shape);
        Assert.Equal([64L, 3L, 8L, 8L], byName["visual.conv1.weight"].Shape);
        Assert.Equal(0, header.DataOffset % 8);
    }

    [Fact]
    public void Read_returns_every_tensor_in_file_order_with_its_shape()
    {
        var path = IoFixtures.Vqgan("model.safetensors");
        var header = SafeTensors.ReadHeader(path);
        using var sd = SafeTensors.Read(path);
        Assert.Equal(CheckpointFormats.SafeTensors, sd.Format);
        Assert.Equal(header.Tensors.Select(t => t.Name), sd.Keys);
        foreach (var entry in header.Tensors)
        {
            Assert.Equal(entry.Info.Shape, sd[entry.Name].shape);
            Assert.Equal(ScalarType.Float32, sd[entry.Name].dtype);
        }
        // Codebook rows are distinct random vectors: data really came from the file.
        Assert.True(sd["quantize.embedding.weight"].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Read_with_filter_loads_only_the_tensors_asked_for()
    {
        using var sd = SafeTensors.Read(IoFixtures.Clip("openai.safetensors"), n => n.StartsWith("visual.", StringComparison.Ordinal));
        Assert.NotEmpty(sd.Keys);
        Assert.All(sd.Keys, k => Assert.StartsWith("visual.", k));
        Assert.False(sd.ContainsKey("positional_embedding"));
    }

    [Fact]
    public void Writer_output_reopens_bit_identical_for_every_dtype_with_metadata()
    {
        using var dir = IoFixtures.NewTempDir();
        var source = new List<(string, Tensor)>
        {
            ("f64", torch.randn(3, 2, dtype: ScalarType.Float64)),
            ("f32", torch.randn(2, 3, 4)),
            ("f16", torch.randn(5, dtype: ScalarType.Float16)),
            ("bf16", torch.randn(2, 7, dtype: ScalarType.BFloat16)),
            ("i64", torch.arange(-5, 6, dtype: ScalarType.Int64)),
            ("i32", torch.arange(0, 9, dtype: ScalarType.Int32).reshape(3, 3)),
            ("i16", torch.arange(-4, 4, dtype: ScalarType.Int16)),
            ("i8", torch.arange(-3, 3, dtype: ScalarType.Int8)),
            ("u8", torch.arange(250, 256, dtype: ScalarType.Byte)),
            ("bool", torch.tensor(new[] { true, false, true })),
            ("scalar", torch.tensor(3.5f)),
            ("empty", torch.zeros(0, 4)),
            ("strided", torch.randn(4, 6).t()),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode + \"quotes\"" };
        try
        {
            var first = dir.File("a.safetensors");
            SafeTensors.Write(first, source, metadata);
            var bytes = File.ReadAllBytes(first);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, (8 + headerLength) % 8);
            Assert.EndsWith("}", Encoding.UTF8.GetString(bytes, 8, (int)headerLength).TrimEnd(' '));

            using var back = SafeTensors.Read(first);
            Assert.Equal(source.Select(s => s.Item1), back.Keys);
            foreach (var (name, t) in source)
                Assert.True(IoFixtures.BitEqual(t, back[name]), $"tensor {name} changed on the round trip");
            Assert.Equal(metadata, back.Metadata);

            var second = dir.File("b.safetensors");
            SafeTensors.Write(second, back);
            Assert.Equal(bytes, File.ReadAllBytes(second));
        }
        finally
        {
            foreach (var (_, t) in source) t.Dispose();
        }
    }

    [Fact]
    public void Rewriting_a_fixture_gives_the_same_tensors()
    {
        using var dir = IoFixtures.NewTempDir();
        using var original = SafeTensors.Read(IoFixtures.Clip("openai.safetensors"));
        var copy = dir.File("copy.safetensors");
        SafeTensors.Write(copy, original);
        using var back = SafeTensors.Read(copy);
        Assert.Equal(original.Keys, back.Keys);
        foreach (var key in original.Keys) Assert.True(IoFixtures.BitEqual(original[key], back[key]), key);
    }

    // ---- hostile and corrupted files -------------------------------------------------------

    private static byte[] Build(string headerJson, int dataBytes, ulong? claimedLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, claimedLength ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        for (int i = 0; i < dataBytes; i++) file[8 + header.Length + i] = (byte)i;
        return file;
    }

    private const string ValidHeader = """{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"I64","shape":[1],"data_offsets":[16,24]}}""";

    private static CheckpointFormatException ReadBroken(IoFixtures.TempDir dir, byte[] bytes)
    {
        var path = dir.File("broken-" + Guid.NewGuid().ToString("N")[..6] + ".safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => { using var sd = SafeTensors.Read(path); });
        Assert.Contains(path, e.Message);
        Assert.Equal(CheckpointFormats.SafeTensors, e.Format);
        // The header-only reader rejects the same files.
        Assert.Throws<CheckpointFormatException>(() => SafeTensors.ReadHeader(path));
        return e;
    }

    [Fact]
    public void The_valid_handmade_file_reads()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("ok.safetensors");
        File.WriteAllBytes(path, Build(ValidHeader, 24));
        using var sd = SafeTensors.Read(path);
        Assert.Equal(["a", "b"], sd.Keys);
        Assert.Equal([2L, 2L], sd["a"].shape);
        Assert.Equal(BitConverter.ToInt64([16, 17, 18, 19, 20, 21, 22, 23]), sd["b"][0].item<long>());
    }

    [Theory]
    [InlineData(0, "too short")]
    [InlineData(5, "too short")]
    [InlineData(8, "exceeds")]
    [InlineData(40, "exceeds")]
    [InlineData(-1, "beyond the")]   // cut one byte into the data section
    [InlineData(-20, "beyond the")]
    public void Truncated_files_are_rejected(int cutAt, string problem)
    {
        using var dir = IoFixtures.NewTempDir();
        var full = Build(ValidHeader, 24);
        var cut = full[..(cutAt >= 0 ? cutAt : full.Length + cutAt)];
        Assert.Contains(problem, ReadBroken(dir, cut).Message);
    }

    [Fact]
    public void A_huge_header_length_is_rejected_before_allocating()
    {
        using var dir = IoFixtures.NewTempDir();
        var e = ReadBroken(dir, Build(ValidHeader, 24, claimedLength: ulong.MaxValue - 3));
        Assert.Contains("header length 18446744073709551612 exceeds", e.Message);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]""", "not well-formed JSON")]
    [InlineData("""[1,2,3]                                                                                                                    """, "does not start with '{'")]
    [InlineData("""{"a":{"dtype":"F8_E9","shape":[2,2],"data_offsets":[0,16]}}""", "unknown dtype 'F8_E9'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}""", "needs 24 bytes but data_offsets [0, 16] hold 16")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}}""", "negative dimension -2")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}""", "overlap")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}""", "run backwards")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "names 'a' twice")]
    [InlineData("""{"__metadata__":{"epoch":3},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "only strings are allowed")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}""", "too large to address")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2]}}""", "no 'data_offsets' pair")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}}""", "beyond the 24-byte data section")]
    public void Malformed_headers_are_rejected_with_the_problem_named(string header, string problem)
    {
        using var dir = IoFixtures.NewTempDir();
        Assert.Contains(problem, ReadBroken(dir, Build(header, 24)).Message);
    }
}
