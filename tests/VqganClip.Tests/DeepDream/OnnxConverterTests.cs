using Microsoft.ML.OnnxRuntime;
using VqganClip.Models.IO;
using VqganClip.Models.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static VqganClip.Tests.DeepDream.DeepDreamTestSupport;

namespace VqganClip.Tests.DeepDream;

/// <summary>
/// The converter against ONNX Runtime (an independent forward): the ResNet18 on three pictures, and a tiny graph with
/// every supported operator on odd sizes with asymmetric pads; and its errors.
/// </summary>
public sealed class OnnxConverterTests(ITestOutputHelper output)
{
    private static float[] OrtRun(string model, string input, string outputName, Tensor x)
    {
        using var session = new InferenceSession(model);
        float[] data = x.detach().contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, x.shape);
        using var options = new RunOptions();
        using var results = session.Run(options, [input], [value], [outputName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void ResNet18_agrees_with_OnnxRuntime_on_three_pictures()
    {
        using var scope = NewDisposeScope();
        var net = Network;
        var pictures = new[] { Io()["inputs.rgb01"], Picture(224, 224, 1), Picture(224, 224, 2) };
        foreach (var (picture, i) in pictures.Select((p, i) => (p, i)))
        {
            var x = net.Preprocess(picture);
            Tensor ours;
            using (no_grad()) ours = net.Network.forward(x);
            var theirs = tensor(OrtRun(net.FilePath, net.Network.InputName, net.Network.OutputName, x), ours.shape);
            var (abs, ratio) = Errors(theirs, ours, Tolerance);
            output.WriteLine($"picture {i}: pooled [{string.Join(",", ours.shape)}] max |ours - ORT| {abs:G3}, worst err/tol {ratio:G3}, max |ORT| {theirs.abs().max().item<float>():G4}");
            AssertClose(theirs, ours, $"pooled output of picture {i}");
        }
    }

    [Fact]
    public void Every_operator_with_asymmetric_pads_agrees_with_OnnxRuntime()
    {
        using var scope = NewDisposeScope();
        var dir = TempDir();
        var path = TinyOnnx.Write(TinyOnnx.AllOperators(5), Path.Combine(dir, "tiny.onnx"));
        using var net = OnnxNetwork.Load(path);
        var x = randn(new long[] { 1, 3, 9, 10 }, generator: new TorchSharp.torch.Generator(7));
        var ours = net.forward(x);
        Assert.Equal(new long[] { 1, 4, 3, 4 }, ours.shape);
        var theirs = tensor(OrtRun(path, "x", "y", x), ours.shape);
        TransformerTestSupportAssert(theirs, ours);
        // gradients reach the input through the narrow (4-filter) convolution and the padded pools
        var xg = x.clone().requires_grad_(true);
        net.forward(xg).pow(2).sum().backward();
        Assert.True(xg.grad!.abs().sum().item<float>() > 0);
        Assert.False(xg.grad!.isnan().any().item<bool>());
    }

    private static void TransformerTestSupportAssert(Tensor expected, Tensor actual) =>
        Transformer.TransformerTestSupport.AssertClose(expected, actual, "tiny graph output", (1e-5, 1e-5));

    [Fact]
    public void An_unsupported_operator_is_named_with_its_node_and_file()
    {
        var path = TinyOnnx.Write(TinyOnnx.WithSoftmax(), Path.Combine(TempDir(), "softmax.onnx"));
        var e = Assert.Throws<OnnxNotSupportedException>(() => OnnxNetwork.Load(path));
        Assert.Equal("Softmax", e.Operator);
        Assert.Equal("softmax_node", e.Node);
        Assert.Contains("'Softmax'", e.Message);
        Assert.Contains("softmax_node", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_missing_file_is_a_FileNotFoundException_naming_it()
    {
        var path = Path.Combine(TempDir(), "nothing.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => OnnxNetwork.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Truncated_empty_and_non_ONNX_files_are_refused_naming_the_file()
    {
        var dir = TempDir();
        // a truncated copy of the real ResNet18 (its first megabyte)
        var truncated = Path.Combine(dir, "ResNet18-truncated.onnx");
        using (var source = File.OpenRead(ModelPath))
        {
            var head = new byte[1 << 20];
            source.ReadExactly(head);
            File.WriteAllBytes(truncated, head);
        }
        // a tiny model cut in half, an empty file, an HTML page
        var bytes = File.ReadAllBytes(TinyOnnx.Write(TinyOnnx.AllOperators(1), Path.Combine(dir, "whole.onnx")));
        var half = Path.Combine(dir, "half.onnx");
        File.WriteAllBytes(half, bytes[..(bytes.Length / 2)]);
        var empty = Path.Combine(dir, "empty.onnx");
        File.WriteAllBytes(empty, []);
        var html = Path.Combine(dir, "page.onnx");
        File.WriteAllText(html, "<!DOCTYPE html><html><body>Not found</body></html>");
        foreach (var path in new[] { truncated, half, empty, html })
        {
            var e = Assert.Throws<CheckpointFormatException>(() => OnnxNetwork.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Equal("ONNX", e.Format);
            output.WriteLine(e.Message);
        }
    }

    [Fact]
    public void A_node_reading_a_value_nobody_makes_is_refused()
    {
        var model = TinyOnnx.Model("x", [1, 3, 4, 4], [], TinyOnnx.Node("Relu", "relu", ["nowhere"], "y"));
        var path = TinyOnnx.Write(model, Path.Combine(TempDir(), "broken.onnx"));
        var e = Assert.Throws<CheckpointFormatException>(() => OnnxNetwork.Load(path));
        Assert.Contains("nowhere", e.Message);
    }
}
