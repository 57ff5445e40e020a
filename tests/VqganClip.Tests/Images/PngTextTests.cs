using System.Text;
using SkiaSharp;
using TorchSharp;
using VqganClip.Models.Images;
using static TorchSharp.torch;
using static VqganClip.Tests.Images.ImageTestData;

namespace VqganClip.Tests.Images;

public class PngTextTests
{
    private static readonly Dictionary<string, string> Entries = new()
    {
        ["prompt"] = "a lighthouse at dusk | trending on artstation:0.5",
        ["seed"] = "42",
        ["settings"] = "{\"size\":[256,256],\"lr\":0.1,\"iterations\":500}",
        ["prompt-ja"] = "東京の夜景 🎨",   // not Latin-1: written as iTXt (UTF-8)
        ["café"] = "naïve",                  // Latin-1 keyword and value: tEXt
    };

    [Fact]
    public void Text_entries_reopen_and_the_png_stays_valid()
    {
        using var dir = new TempDir();
        using var image = rand(1, 3, 16, 24, generator: new Generator(1));
        var path = dir.File("meta.png");
        ImageIO.Save(image, path, Entries);

        Assert.Equal(Entries, ImageIO.ReadPngText(path));
        // Still a valid PNG with the same pixels.
        Assert.Equal(ImageTestData.DecodeRgba(ImageIO.ToPngBytes(image), out _, out _), ImageTestData.DecodeRgba(File.ReadAllBytes(path), out _, out _));
        // The text chunks come right after IHDR (8-byte signature + 25-byte IHDR chunk).
        var bytes = File.ReadAllBytes(path);
        string firstAfterIhdr = Encoding.ASCII.GetString(bytes, 8 + 25 + 4, 4);
        Assert.Equal("tEXt", firstAfterIhdr);
        Assert.Contains("iTXt", Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void A_png_without_text_reads_as_empty_and_chunks_insert_into_bytes()
    {
        using var image = rand(3, 4, 4, generator: new Generator(2));
        var plain = ImageIO.ToPngBytes(image);
        Assert.Empty(PngTextChunks.Read(plain));
        var withText = ImageIO.ToPngBytes(image, new Dictionary<string, string> { ["seed"] = "7" });
        Assert.Equal("7", PngTextChunks.Read(withText)["seed"]);
    }

    [Fact]
    public void Reads_compressed_ztxt_and_itxt()
    {
        using var image = rand(3, 4, 4, generator: new Generator(2));
        var png = ImageIO.ToPngBytes(image);
        static byte[] Deflate(byte[] data)
        {
            using var output = new MemoryStream();
            using (var z = new System.IO.Compression.ZLibStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
            return output.ToArray();
        }
        byte[] ztxt = [.. Encoding.Latin1.GetBytes("Comment"), 0, 0, .. Deflate(Encoding.Latin1.GetBytes("zipped text"))];
        byte[] itxt = [.. Encoding.Latin1.GetBytes("Title"), 0, 1, 0, .. Encoding.ASCII.GetBytes("ja"), 0, 0, .. Deflate(Encoding.UTF8.GetBytes("夜景"))];
        var edited = InsertRawChunk(InsertRawChunk(png, "zTXt", ztxt), "iTXt", itxt);
        var text = PngTextChunks.Read(edited);
        Assert.Equal("zipped text", text["Comment"]);
        Assert.Equal("夜景", text["Title"]);
    }

    [Fact]
    public void Bad_keywords_missing_files_and_corruption_are_reported()
    {
        using var dir = new TempDir();
        using var image = rand(3, 4, 4);
        Assert.Throws<ArgumentException>(() => ImageIO.ToPngBytes(image, new Dictionary<string, string> { [""] = "x" }));
        Assert.Throws<ArgumentException>(() => ImageIO.ToPngBytes(image, new Dictionary<string, string> { [" lead"] = "x" }));
        Assert.Throws<ArgumentException>(() => ImageIO.ToPngBytes(image, new Dictionary<string, string> { [new string('k', 80)] = "x" }));

        var missing = dir.File("none.png");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => ImageIO.ReadPngText(missing)).Message);

        var notPng = dir.File("not.png");
        File.WriteAllBytes(notPng, Encode(RandomRgba(4, 4, 1), 4, 4, SKEncodedImageFormat.Jpeg));
        Assert.Contains(notPng, Assert.Throws<InvalidDataException>(() => ImageIO.ReadPngText(notPng)).Message);

        var bad = dir.File("badcrc.png");
        var bytes = ImageIO.ToPngBytes(image, new Dictionary<string, string> { ["seed"] = "1" });
        bytes[8 + 25 + 8] ^= 0xFF; // first byte of the tEXt data
        File.WriteAllBytes(bad, bytes);
        var e = Assert.Throws<InvalidDataException>(() => ImageIO.ReadPngText(bad));
        Assert.Contains(bad, e.Message);
        Assert.Contains("CRC", e.Message);
    }

    private static byte[] InsertRawChunk(byte[] png, string type, byte[] data)
    {
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        var chunk = new List<byte>();
        chunk.AddRange(BigEndian((uint)data.Length));
        chunk.AddRange(typeAndData);
        chunk.AddRange(BigEndian(System.IO.Hashing.Crc32.HashToUInt32(typeAndData)));
        const int afterIhdr = 8 + 25;
        return png[..afterIhdr].Concat(chunk).Concat(png[afterIhdr..]).ToArray();
        static byte[] BigEndian(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
    }
}
