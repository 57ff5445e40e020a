using Google.Protobuf;
using VqganClip.Models.Onnx.Proto;

namespace VqganClip.Tests.DeepDream;

/// <summary>Small ONNX models written in the tests with Google.Protobuf (opset 8, IR 3, as the CNTK export).</summary>
internal static class TinyOnnx
{
    public static TensorProto Tensor(string name, float[] data, params long[] dims) =>
        new() { Name = name, DataType = (int)TensorProto.Types.DataType.Float, Dims = { dims }, FloatData = { data } };

    public static AttributeProto Ints(string name, params long[] values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static NodeProto Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes) =>
        new() { OpType = op, Name = name, Input = { inputs }, Output = { output }, Attribute = { attributes } };

    public static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>A model of <paramref name="nodes"/> with input <paramref name="input"/> (shape <paramref name="inputShape"/>) and the last node's output as its output.</summary>
    public static ModelProto Model(string input, long[] inputShape, IEnumerable<TensorProto> weights, params NodeProto[] nodes)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Node.Add(nodes);
        graph.Input.Add(Value(input, inputShape));
        foreach (var w in weights)
        {
            graph.Initializer.Add(w);
            graph.Input.Add(Value(w.Name, w.Dims.ToArray()));   // IR 3: initializers are inputs too
        }
        graph.Output.Add(new ValueInfoProto
        {
            Name = nodes[^1].Output[0],
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
        });
        return new ModelProto
        {
            IrVersion = 3,
            ProducerName = "VqganClip.Tests",
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 8 } },
            Graph = graph,
        };
    }

    public static string Write(ModelProto model, string path)
    {
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary>
    /// Every supported operator on odd sizes with CNTK-style asymmetric pads, and a convolution of 4 filters (the
    /// narrow-convolution path): x [1,3,9,10] -> Conv 3x3/2 pads [1,1,0,0] -> BatchNormalization -> Relu -> MaxPool 2x2/1
    /// pads [1,1,0,0] -> (AveragePool 3x3/1 pads [1,0,0,1] without the pad count) + (AveragePool 2x2/1) -> Add, [1,4,3,4].
    /// </summary>
    public static ModelProto AllOperators(long seed)
    {
        var rng = new Random((int)seed);
        float[] R(int n, double scale = 1, double offset = 0) => Enumerable.Range(0, n).Select(_ => (float)(offset + scale * (rng.NextDouble() * 2 - 1))).ToArray();
        var weights = new[]
        {
            Tensor("W", R(4 * 3 * 3 * 3, 0.5), 4, 3, 3, 3),
            Tensor("Bias", R(4, 0.1), 4),
            Tensor("scale", R(4, 0.5, 1), 4),
            Tensor("shift", R(4, 0.2), 4),
            Tensor("mean", R(4, 0.2), 4),
            Tensor("var", R(4, 0.5, 1), 4),
        };
        return Model("x", [1, 3, 9, 10], weights,
            Node("Conv", "conv", ["x", "W", "Bias"], "c", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0), Int("group", 1), Ints("dilations", 1, 1)),
            Node("BatchNormalization", "bn", ["c", "scale", "shift", "mean", "var"], "b", Float("epsilon", 1e-5f), Int("spatial", 1)),
            Node("Relu", "relu", ["b"], "r"),
            Node("MaxPool", "maxpool", ["r"], "m", Ints("kernel_shape", 2, 2), Ints("strides", 1, 1), Ints("pads", 1, 1, 0, 0)),
            Node("AveragePool", "avg_asym", ["m"], "a1", Ints("kernel_shape", 3, 3), Ints("strides", 1, 1), Ints("pads", 1, 0, 0, 1), Int("count_include_pad", 0)),
            Node("AveragePool", "avg", ["m"], "a2", Ints("kernel_shape", 2, 2), Ints("strides", 1, 1)),
            Node("Add", "add", ["a1", "a2"], "y"));
    }

    /// <summary>x -> Relu -> Softmax (an operator the converter does not implement).</summary>
    public static ModelProto WithSoftmax() => Model("x", [1, 3, 4, 4], [],
        Node("Relu", "relu", ["x"], "r"),
        Node("Softmax", "softmax_node", ["r"], "y", Int("axis", 1)));
}
