using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace VqganClip.Tests.IO;

/// <summary>Writes small hand-made pickles (protocol 2 opcodes) for the hostile-input tests.</summary>
internal sealed class PickleBytes
{
    private readonly List<byte> _bytes = [0x80, 2]; // PROTO 2

    public PickleBytes Op(char opcode) { _bytes.Add((byte)opcode); return this; }

    public PickleBytes Op(byte opcode) { _bytes.Add(opcode); return this; }

    public PickleBytes Global(string module, string name)
    {
        _bytes.Add((byte)'c');
        _bytes.AddRange(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
        return this;
    }

    public PickleBytes Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        _bytes.Add((byte)'X');
        var len = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)utf8.Length);
        _bytes.AddRange(len);
        _bytes.AddRange(utf8);
        return this;
    }

    /// <summary>BINUNICODE with a claimed length that the bytes do not back up.</summary>
    public PickleBytes StrClaiming(uint claimedLength, string actual)
    {
        _bytes.Add((byte)'X');
        var len = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(len, claimedLength);
        _bytes.AddRange(len);
        _bytes.AddRange(Encoding.UTF8.GetBytes(actual));
        return this;
    }

    public PickleBytes Int(int v)
    {
        _bytes.Add((byte)'J');
        var b = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        _bytes.AddRange(b);
        return this;
    }

    public PickleBytes Mark() => Op('(');
    public PickleBytes Tuple() => Op('t');
    public PickleBytes Tuple1() => Op(0x85);
    public PickleBytes Reduce() => Op('R');
    public PickleBytes EmptyDict() => Op('}');
    public PickleBytes EmptyTuple() => Op(')');
    public PickleBytes SetItem() => Op('s');
    public PickleBytes Stop() => Op('.');

    /// <summary>Appends whatever <paramref name="write"/> writes, so a helper can sit inside a chain.</summary>
    public PickleBytes Apply(Func<PickleBytes, PickleBytes> write) => write(this);

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>A torch.save-shaped zip: &lt;top&gt;/data.pkl, &lt;top&gt;/version and any extra records.</summary>
    public static void WriteZip(string path, byte[] dataPkl, string top = "archive", IDictionary<string, byte[]>? records = null, bool compress = false)
    {
        using var stream = File.Create(path);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create);
        void Add(string name, byte[] content)
        {
            var entry = zip.CreateEntry(top + "/" + name, compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var s = entry.Open();
            s.Write(content);
        }
        Add("data.pkl", dataPkl);
        Add("version", "3\n"u8.ToArray());
        if (records is not null) foreach (var (name, content) in records) Add(name, content);
    }
}

internal static class PickleBytesExtensions
{
    /// <summary>Appends _rebuild_tensor_v2(storage(key, numel floats), offset, size, stride, False, OrderedDict()).</summary>
    public static PickleBytes FloatTensor(this PickleBytes p, string key, int numel, int offset, int[] size, int[] stride, string storageClass = "FloatStorage")
    {
        p.Global("torch._utils", "_rebuild_tensor_v2").Mark();
        p.Mark().Str("storage").Global("torch", storageClass).Str(key).Str("cpu").Int(numel).Tuple().Op('Q');
        p.Int(offset);
        p.Mark(); foreach (var s in size) p.Int(s); p.Tuple();
        p.Mark(); foreach (var s in stride) p.Int(s); p.Tuple();
        p.Op(0x89); // NEWFALSE: requires_grad
        p.Global("collections", "OrderedDict").EmptyTuple().Reduce();
        return p.Tuple().Reduce();
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }
}
