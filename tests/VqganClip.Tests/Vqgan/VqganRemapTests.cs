using VqganClip.Models.IO;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Tests.Vqgan.VqganTestSupport;

namespace VqganClip.Tests.Vqgan;

/// <summary>taming's remap / unmap of codebook indices, and models trained with one.</summary>
public sealed class VqganRemapTests
{
    public VqganRemapTests() => EnsureTorch();

    [Fact]
    public void Remap_and_unmap_follow_taming()
    {
        long[] used = { 5, 2, 9 };
        using var codes = tensor(new long[] { 2, 9, 5, 3 }).reshape(1, 4);

        var extra = new IndexRemap(used, 10, "extra");
        Assert.Equal(4, extra.ReEmbed);
        using var remapped = extra.RemapToUsed(codes);
        Assert.Equal(new long[] { 1, 2, 0, 3 }, remapped.data<long>().ToArray());   // 3 is unknown -> the extra index
        using var back = extra.UnmapToAll(remapped);
        Assert.Equal(new long[] { 2, 9, 5, 5 }, back.data<long>().ToArray());      // extra -> 0 -> used[0]

        var fixedIndex = new IndexRemap(used, 10, "1");
        using var fixedRemapped = fixedIndex.RemapToUsed(codes);
        Assert.Equal(new long[] { 1, 2, 0, 1 }, fixedRemapped.data<long>().ToArray());

        var random = new IndexRemap(used, 10, "random");
        Assert.Equal(3, random.ReEmbed);
        using var randomRemapped = random.RemapToUsed(codes);
        var values = randomRemapped.data<long>().ToArray();
        Assert.Equal(new long[] { 1, 2, 0 }, values[..3]);
        Assert.InRange(values[3], 0, 2);

        // Duplicates: the first position wins, as taming's argmax over matches does.
        var duplicated = new IndexRemap(new long[] { 4, 4, 7 }, 8);
        using var dup = duplicated.RemapToUsed(tensor(new long[] { 4, 7 }).reshape(1, 2));
        Assert.Equal(new long[] { 0, 2 }, dup.data<long>().ToArray());

        Assert.Throws<ArgumentException>(() => new IndexRemap(new long[] { 12 }, 10));
        Assert.Throws<ArgumentException>(() => new IndexRemap(used, 10, "sometimes"));
    }

    [Fact]
    public void Remapped_model_round_trips_its_used_buffer_and_decodes_remapped_indices()
    {
        var used = new long[] { 3, 0, 7, 11, 5 };
        var config = SmallConfig(nEmbed: 12, embedDim: 8) with { Remap = "used_codes.npy", RemapUnknownIndex = "extra" };
        var dir = TempDir();
        try
        {
            using var original = new VqganModel(config, used);
            Assert.Contains("quantize.used", original.state_dict().Keys);
            var path = Path.Combine(dir, "remapped.safetensors");
            SaveSafetensors(original, path);

            // No config: the remap comes back from the quantize.used buffer.
            using var inferred = VqganModel.Load(path);
            Assert.NotNull(inferred.Quantizer.Remap);
            Assert.Equal(used, inferred.Quantizer.Remap!.Used);

            // Latents built from used codes come back as their positions in `used`, and decode from them.
            using var positions = tensor(new long[] { 2, 0, 4, 1 });
            using var codes = tensor(new long[] { 7, 3, 5, 0 });
            using var latent = original.Codebook.index_select(0, codes).view(1, 2, 2, 8).permute(0, 3, 1, 2).contiguous();
            using (no_grad())
            {
                var (zq, indices) = inferred.Quantize(latent);
                AssertIdentical(positions, indices, "remapped indices");
                using var a = inferred.Decode(zq);
                using var b = inferred.DecodeIndices(indices, new long[] { 1, 2, 2, 8 });
                AssertClose(a, b, "decode(z_q) vs decode(remapped indices)", (1e-5, 1e-5));
                zq.Dispose(); indices.Dispose();
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Remap_file_is_read_when_the_checkpoint_has_no_used_buffer()
    {
        var dir = TempDir();
        try
        {
            var npy = Path.Combine(dir, "used.npy");
            WriteNpyInt64(npy, new long[] { 4, 1, 2 });
            var config = SmallConfig(nEmbed: 6, embedDim: 8) with { Remap = "used.npy", Source = Path.Combine(dir, "model.yaml") };
            File.WriteAllText(config.Source, "model: {}");
            using var model = new VqganModel(config);
            Assert.Equal(new long[] { 4, 1, 2 }, model.Quantizer.Remap!.Used);
            Assert.Equal(new long[] { 4, 1, 2 }, NpyIndexFile.Read(npy));

            var missing = config with { Remap = "data/vqgan_remap_missing.npy" };
            var e = Assert.Throws<FileNotFoundException>(() => new VqganModel(missing));
            Assert.Contains("data/vqgan_remap_missing.npy", e.Message);
            Assert.Contains("quantize.used", e.Message);

            var notNpy = Path.Combine(dir, "bad.npy");
            File.WriteAllText(notNpy, "not numpy");
            var bad = Assert.Throws<InvalidDataException>(() => NpyIndexFile.Read(notNpy));
            Assert.Contains("bad.npy", bad.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>np.save of a 1-D int64 array (format 1.0).</summary>
    private static void WriteNpyInt64(string path, long[] values)
    {
        var header = $"{{'descr': '<i8', 'fortran_order': False, 'shape': ({values.Length},), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(System.Text.Encoding.Latin1.GetBytes(header));
        foreach (var v in values) stream.Write(BitConverter.GetBytes(v));
    }
}
