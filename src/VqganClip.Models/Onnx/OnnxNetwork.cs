using System.Runtime.InteropServices;
using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Models.Onnx.Proto;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Onnx;

/// <summary>An ONNX operator (or an attribute value of one) this converter does not implement; names the file, the operator and the node.</summary>
public sealed class OnnxNotSupportedException : NotSupportedException
{
    public OnnxNotSupportedException(string path, string op, string node, string problem)
        : base($"ONNX file '{path}': node '{node}' uses {problem}. Supported operators: {string.Join(", ", OnnxNetwork.SupportedOperators)}.")
    {
        FilePath = path;
        Operator = op;
        Node = node;
    }

    public string FilePath { get; }
    public string Operator { get; }
    public string Node { get; }
}

/// <summary>One value a graph computes: the node's output name (<c>ReLU333_Output_0</c>), the node and its operator.</summary>
public sealed record OnnxLayer(int Index, string Output, string Node, string Operator);

/// <summary>
/// An ONNX graph of 2-D image layers run in TorchSharp with autograd, so gradients reach the input (DeepDream,
/// perceptual losses): exactly the operators of ML.NET's ResNet18 (a CNTK 2.6 export), <c>Conv</c> (CNTK's
/// asymmetric pads become an explicit zero <c>F.pad</c>), <c>BatchNormalization</c> (inference: running
/// statistics), <c>Relu</c>, <c>MaxPool</c> (asymmetric pads as -inf padding), <c>AveragePool</c> and <c>Add</c>.
/// The weights are buffers (frozen); every node's output can be asked for by name (<see cref="Run"/>), and the
/// graph is only run as far as the last value asked for. Any other operator, or an attribute this converter does not
/// implement, is refused when the network is built, naming it (<see cref="OnnxNotSupportedException"/>).
/// </summary>
public sealed class OnnxNetwork : nn.Module<Tensor, Tensor>
{
    public static IReadOnlyList<string> SupportedOperators { get; } = ["Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "Add"];

    private readonly List<Step> _steps = new();
    private readonly Dictionary<string, string> _bufferNames = new();
    private readonly Dictionary<string, int> _producer = new();

    private sealed record Step(int Index, NodeProto Node, string[] Inputs, string Output, Func<Tensor[], Tensor> Apply);

    public OnnxNetwork(OnnxModelFile file) : base("OnnxNetwork")
    {
        ArgumentNullException.ThrowIfNull(file);
        FilePath = file.FilePath;
        var graph = file.Graph;
        var inputs = file.Inputs;
        if (inputs.Count != 1)
            throw new CheckpointFormatException(FilePath, OnnxModelFile.Format, $"the graph has {inputs.Count} inputs ({string.Join(", ", inputs)}); this converter takes graphs of one image input");
        InputName = inputs[0];
        if (graph.Output.Count < 1) throw new CheckpointFormatException(FilePath, OnnxModelFile.Format, "the graph has no output");
        OutputName = graph.Output[0].Name;

        int b = 0;
        foreach (var init in graph.Initializer)
        {
            string name = "w" + (b++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _bufferNames[init.Name] = name;
            register_buffer(name, file.ToTensor(init).DetachFromDisposeScope());   // the network outlives any scope it is built in
        }

        var known = new HashSet<string>(_bufferNames.Keys) { InputName };
        var layers = new List<OnnxLayer>();
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            string nodeName = string.IsNullOrEmpty(node.Name) ? $"#{i} ({node.OpType})" : node.Name;
            if (!string.IsNullOrEmpty(node.Domain) && node.Domain != "ai.onnx")
                throw new OnnxNotSupportedException(FilePath, node.OpType, nodeName, $"operator '{node.OpType}' of domain '{node.Domain}', which this converter does not implement");
            var outputs = node.Output.Where(o => !string.IsNullOrEmpty(o)).ToList();
            if (outputs.Count != 1)
                throw new OnnxNotSupportedException(FilePath, node.OpType, nodeName, $"operator '{node.OpType}' with {outputs.Count} outputs (this converter takes one output per node)");
            var nodeInputs = node.Input.Where(x => !string.IsNullOrEmpty(x)).ToArray();
            foreach (var input in nodeInputs)
                if (!known.Contains(input))
                    throw new CheckpointFormatException(FilePath, OnnxModelFile.Format, $"node '{nodeName}' reads '{input}', which no earlier node, input or initializer makes (the graph is not in order or is incomplete)");
            var apply = Compile(node, nodeName, nodeInputs);
            _steps.Add(new Step(i, node, nodeInputs, outputs[0], apply));
            _producer[outputs[0]] = _steps.Count - 1;
            known.Add(outputs[0]);
            layers.Add(new OnnxLayer(i, outputs[0], nodeName, node.OpType));
        }
        if (!_producer.ContainsKey(OutputName))
            throw new CheckpointFormatException(FilePath, OnnxModelFile.Format, $"the graph output '{OutputName}' is made by no node");
        Layers = layers;
        Producer = file.Producer;
    }

    /// <summary>Reads and converts an ONNX file (errors: see <see cref="OnnxModelFile.Load"/> and the class remarks).</summary>
    public static OnnxNetwork Load(string path) => new(OnnxModelFile.Load(path));

    public string FilePath { get; }
    public string Producer { get; }
    public string InputName { get; }
    public string OutputName { get; }

    /// <summary>Every node's output, in the graph's order.</summary>
    public IReadOnlyList<OnnxLayer> Layers { get; }

    /// <summary>Each node's inputs (values, weights), in the order of <see cref="Layers"/>.</summary>
    internal IReadOnlyList<IReadOnlyList<string>> NodeInputs => _steps.Select(s => (IReadOnlyList<string>)s.Inputs).ToList();

    /// <summary>The graph's output for <paramref name="input"/>.</summary>
    public override Tensor forward(Tensor input) => Run(input, [OutputName])[OutputName];

    /// <summary>
    /// Runs the graph on <paramref name="input"/> as far as needed and returns the values named in
    /// <paramref name="outputs"/> (node output names or the input's name), with autograd when it is on.
    /// </summary>
    public Dictionary<string, Tensor> Run(Tensor input, IReadOnlyCollection<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(input);
        int last = -1;
        foreach (var name in outputs)
        {
            if (name == InputName) continue;
            if (!_producer.TryGetValue(name, out int at))
                throw new ArgumentException($"'{name}' is no value of the ONNX graph in '{FilePath}' (its values: {Layers[0].Output} ... {Layers[^1].Output}; list them with Layers).");
            last = Math.Max(last, at);
        }
        if (input.dim() != 4) throw new ArgumentException($"the ONNX graph takes [N,C,H,W] pictures; got a tensor of {input.dim()} dimensions.");

        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor> { [InputName] = input };
        for (int s = 0; s <= last; s++)
        {
            var step = _steps[s];
            var args = new Tensor[step.Inputs.Length];
            for (int k = 0; k < args.Length; k++)
                args[k] = values.TryGetValue(step.Inputs[k], out var v) ? v : get_buffer(_bufferNames[step.Inputs[k]])!;
            try
            {
                values[step.Output] = step.Apply(args);
            }
            catch (ExternalException e)
            {
                throw new ArgumentException($"ONNX node {Describe(step)} of '{FilePath}' failed on inputs {string.Join(" and ", args.Select(a => "[" + string.Join(",", a.shape) + "]"))}: {FirstLine(e.Message)}", e);
            }
        }
        var result = new Dictionary<string, Tensor>();
        foreach (var name in outputs.Distinct())
            result[name] = name == InputName ? input : values[name].MoveToOuterDisposeScope();
        return result;
    }

    private static string Describe(Step step) => string.IsNullOrEmpty(step.Node.Name) ? $"#{step.Index} ({step.Node.OpType})" : $"'{step.Node.Name}' ({step.Node.OpType})";

    private static string FirstLine(string message)
    {
        int nl = message.IndexOf('\n');
        return nl < 0 ? message : message[..nl];
    }

    private Func<Tensor[], Tensor> Compile(NodeProto node, string nodeName, string[] inputs)
    {
        var attrs = node.Attribute.ToDictionary(a => a.Name);
        OnnxNotSupportedException Unsupported(string what) => new(FilePath, node.OpType, nodeName, $"{node.OpType} with {what}, which this converter does not implement");
        long[] Ints(string name, long[] fallback) => attrs.TryGetValue(name, out var a) ? a.Ints.ToArray() : fallback;
        long Int(string name, long fallback) => attrs.TryGetValue(name, out var a) ? a.I : fallback;
        void NeedInputs(int min, int max)
        {
            if (inputs.Length < min || inputs.Length > max)
                throw new CheckpointFormatException(FilePath, OnnxModelFile.Format, $"node '{nodeName}' ({node.OpType}) has {inputs.Length} inputs, not {(min == max ? min.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{min}-{max}")}");
        }
        void NoAutoPad()
        {
            if (attrs.TryGetValue("auto_pad", out var a) && a.S.ToStringUtf8() is var mode && mode != "NOTSET" && mode != "")
                throw Unsupported($"auto_pad {mode}");
        }
        (long[] Symmetric, long[]? Explicit) Pads(int spatial)
        {
            // ONNX: [x1_begin, x2_begin, x1_end, x2_end]; F.pad: [left, right, top, bottom].
            long[] pads = Ints("pads", new long[2 * spatial]);
            if (pads.Length != 2 * spatial) throw Unsupported($"{pads.Length} pads");
            if (pads[0] == pads[2] && pads[1] == pads[3]) return ([pads[0], pads[1]], null);
            return ([0, 0], [pads[1], pads[3], pads[0], pads[2]]);
        }

        switch (node.OpType)
        {
            case "Conv":
            {
                NeedInputs(2, 3);
                NoAutoPad();
                long[] kernel = Ints("kernel_shape", []);
                if (kernel.Length is not (0 or 2)) throw Unsupported($"a {kernel.Length}-D kernel (2-D only)");
                long[] strides = Ints("strides", [1, 1]), dilations = Ints("dilations", [1, 1]);
                long groups = Int("group", 1);
                var (symmetric, explicitPad) = Pads(2);
                return a =>
                {
                    var x = explicitPad is null ? a[0] : F.pad(a[0], explicitPad);
                    return NarrowConvolution.Forward(x, a[1], a.Length > 2 ? a[2] : null, strides, symmetric, dilations, groups);
                };
            }
            case "BatchNormalization":
            {
                NeedInputs(5, 5);
                if (Int("spatial", 1) != 1) throw Unsupported("spatial=0 (per-activation statistics)");
                if (Int("training_mode", 0) != 0) throw Unsupported("training_mode=1");
                double eps = attrs.TryGetValue("epsilon", out var e) ? e.F : 1e-5;
                return a => F.batch_norm(a[0], a[3], a[4], a[1], a[2], training: false, momentum: 0.0, eps: eps);
            }
            case "Relu":
                NeedInputs(1, 1);
                return a => F.relu(a[0]);
            case "Add":
                NeedInputs(2, 2);
                return a => a[0] + a[1];
            case "MaxPool":
            {
                NeedInputs(1, 1);
                NoAutoPad();
                if (Int("storage_order", 0) != 0) throw Unsupported("storage_order=1");
                long[] kernel = Ints("kernel_shape", []);
                if (kernel.Length != 2) throw Unsupported($"a {kernel.Length}-D kernel (2-D only)");
                long[] strides = Ints("strides", [1, 1]), dilations = Ints("dilations", [1, 1]);
                bool ceil = Int("ceil_mode", 0) != 0;
                var (symmetric, explicitPad) = Pads(2);
                return a =>
                {
                    var x = explicitPad is null ? a[0] : F.pad(a[0], explicitPad, PaddingModes.Constant, double.NegativeInfinity);
                    return F.max_pool2d(x, kernel, strides, symmetric, dilations, ceil);
                };
            }
            case "AveragePool":
            {
                NeedInputs(1, 1);
                NoAutoPad();
                long[] kernel = Ints("kernel_shape", []);
                if (kernel.Length != 2) throw Unsupported($"a {kernel.Length}-D kernel (2-D only)");
                if (attrs.TryGetValue("dilations", out var d) && d.Ints.Any(v => v != 1)) throw Unsupported("dilations");
                long[] strides = Ints("strides", [1, 1]);
                bool ceil = Int("ceil_mode", 0) != 0;
                bool countPad = Int("count_include_pad", 0) != 0;
                var (symmetric, explicitPad) = Pads(2);
                if (explicitPad is null)
                    return a => F.avg_pool2d(a[0], kernel, strides, symmetric, ceil, countPad);
                return a =>
                {
                    var sum = F.avg_pool2d(F.pad(a[0], explicitPad), kernel, strides, ceil_mode: ceil, count_include_pad: true);
                    if (countPad) return sum;
                    // Divide by the number of real (unpadded) pixels under each window instead of the window's size.
                    using var mask = torch.ones(1, 1, a[0].shape[2], a[0].shape[3], dtype: a[0].dtype, device: a[0].device);
                    using var padded = F.pad(mask, explicitPad);
                    using var share = F.avg_pool2d(padded, kernel, strides, ceil_mode: ceil, count_include_pad: true);
                    return sum / share;
                };
            }
            default:
                throw new OnnxNotSupportedException(FilePath, node.OpType, nodeName, $"operator '{node.OpType}', which this converter does not implement");
        }
    }
}
