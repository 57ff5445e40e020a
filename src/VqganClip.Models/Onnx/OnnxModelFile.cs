using Google.Protobuf;
using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Onnx.Proto;
using static TorchSharp.torch;

namespace VqganClip.Models.Onnx;

/// <summary>
/// An ONNX file as read by Google.Protobuf's types generated from <c>onnx.proto</c> (compiled at build): the
/// producer, the opset, the graph's nodes and inputs/outputs, and its initializers as tensors. Files that cannot be
/// parsed, hold no graph or keep their weights in external files are refused with a
/// <see cref="CheckpointFormatException"/> naming the file (format "ONNX"); a missing file is a
/// <see cref="FileNotFoundException"/>.
/// </summary>
public sealed class OnnxModelFile
{
    public const string Format = "ONNX";

    private OnnxModelFile(string path, ModelProto model)
    {
        FilePath = path;
        Model = model;
    }

    /// <summary>The file read (as given).</summary>
    public string FilePath { get; }

    internal ModelProto Model { get; }

    internal GraphProto Graph => Model.Graph;

    /// <summary>"CNTK 2.6" for the ML.NET ResNet18.</summary>
    public string Producer => (Model.ProducerName + " " + Model.ProducerVersion).Trim();

    public long IrVersion => Model.IrVersion;

    /// <summary>The default domain's opset version (0 when the file names none).</summary>
    public long OpsetVersion => Model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

    public string GraphName => Graph.Name;

    /// <summary>The graph's inputs that are not initializers (the ResNet18's <c>Input247</c>).</summary>
    public IReadOnlyList<string> Inputs
    {
        get
        {
            var weights = Graph.Initializer.Select(t => t.Name).ToHashSet();
            return Graph.Input.Select(i => i.Name).Where(n => !weights.Contains(n)).ToList();
        }
    }

    public IReadOnlyList<string> Outputs => Graph.Output.Select(o => o.Name).ToList();

    /// <summary>The operator of each node, in the file's order.</summary>
    public IReadOnlyList<string> Operators => Graph.Node.Select(n => n.OpType).ToList();

    /// <summary>The names of the initializers (weights, constants).</summary>
    public IReadOnlyList<string> InitializerNames => Graph.Initializer.Select(t => t.Name).ToList();

    /// <summary>The declared shape of a graph input, output or value (null when the file does not say); unknown dimensions are -1.</summary>
    public long[]? DeclaredShape(string name)
    {
        var info = Graph.Input.Concat(Graph.Output).Concat(Graph.ValueInfo).FirstOrDefault(v => v.Name == name);
        var shape = info?.Type?.TensorType?.Shape;
        return shape is null ? null : shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1L).ToArray();
    }

    /// <summary>Reads <paramref name="path"/>: a missing file, an unparsable one or one without a graph is an error naming it.</summary>
    public static OnnxModelFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX file not found: {path}", path);
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses ONNX bytes; <paramref name="path"/> names them in errors.</summary>
    public static OnnxModelFile Parse(byte[] bytes, string path)
    {
        if (bytes.Length == 0) throw new CheckpointFormatException(path, Format, "the file is empty");
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CheckpointFormatException(path, Format, $"not a readable ONNX model (protobuf: {e.Message}); the file may be truncated or not ONNX", e);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0)
            throw new CheckpointFormatException(path, Format, "no graph (or a graph without nodes): not an ONNX model");
        if (model.IrVersion <= 0)
            throw new CheckpointFormatException(path, Format, "no IR version: not an ONNX model");
        foreach (var t in model.Graph.Initializer)
            if (t.DataLocation == TensorProto.Types.DataLocation.External)
                throw new CheckpointFormatException(path, Format, $"initializer '{t.Name}' keeps its data in an external file, which this reader does not follow");
        return new OnnxModelFile(path, model);
    }

    /// <summary>The initializer <paramref name="name"/> as a CPU tensor (float32 or int64); null when there is none.</summary>
    public Tensor? Initializer(string name)
    {
        var t = Graph.Initializer.FirstOrDefault(i => i.Name == name);
        return t is null ? null : ToTensor(t);
    }

    /// <summary>An ONNX tensor (float, double or int64; in the typed field or raw little-endian bytes) as a CPU tensor.</summary>
    internal Tensor ToTensor(TensorProto t)
    {
        long[] dims = t.Dims.ToArray();
        long count = dims.Aggregate(1L, (a, b) => a * b);
        var type = (TensorProto.Types.DataType)t.DataType;
        bool raw = !t.RawData.IsEmpty;
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
            {
                float[] values = raw ? FromRaw<float>(t, count) : t.FloatData.ToArray();
                CheckCount(t, values.Length, count);
                return tensor(values, dims);
            }
            case TensorProto.Types.DataType.Double:
            {
                double[] values = raw ? FromRaw<double>(t, count) : t.DoubleData.ToArray();
                CheckCount(t, values.Length, count);
                return tensor(values, dims).to(ScalarType.Float32);
            }
            case TensorProto.Types.DataType.Int64:
            {
                long[] values = raw ? FromRaw<long>(t, count) : t.Int64Data.ToArray();
                CheckCount(t, values.Length, count);
                return tensor(values, dims);
            }
            default:
                throw new CheckpointFormatException(FilePath, Format, $"tensor '{t.Name}' has data type {type}, which this reader does not take (float, double, int64)");
        }
    }

    private T[] FromRaw<T>(TensorProto t, long count) where T : unmanaged
    {
        var bytes = t.RawData.Span;
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (bytes.Length != count * size)
            throw new CheckpointFormatException(FilePath, Format, $"tensor '{t.Name}' holds {bytes.Length} bytes for {count} values of {size} bytes (truncated or corrupted)");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    private void CheckCount(TensorProto t, long actual, long expected)
    {
        if (actual != expected)
            throw new CheckpointFormatException(FilePath, Format, $"tensor '{t.Name}' of shape [{string.Join(",", t.Dims)}] holds {actual} values, not {expected}");
    }
}
