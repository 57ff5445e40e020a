using Xunit.Abstractions;
using static TorchSharp.torch;
using static VqganClip.Tests.DeepDream.DeepDreamTestSupport;

namespace VqganClip.Tests.DeepDream;

/// <summary>
/// Parity with deepdream-resnet18-nuget: the preprocessing, two ReLU activations, the pooled output and the input
/// gradient of mean(relu²) at ReLU333_Output_0, computed from the same ONNX file by an independent interpreter, within
/// the manifest's tolerance.
/// </summary>
public sealed class ResNet18ParityTests(ITestOutputHelper output)
{
    [Fact]
    public void Preprocessing_matches_the_fixture()
    {
        using var scope = NewDisposeScope();
        var io = Io();
        var net = Network;
        AssertClose(io["inputs.mean_bgr"], net.MeanBgr, "mean_bgr");
        var ours = net.Preprocess(io["inputs.rgb01"]);
        AssertClose(io["inputs.net_input"], ours, "net_input");
        var (abs, ratio) = Errors(io["inputs.net_input"], ours, Tolerance);
        output.WriteLine($"net_input: max |err| {abs:G3}, worst err/tol {ratio:G3} (mean from {net.MeanSource})");
        // and back again
        AssertClose(io["inputs.rgb01"], net.Deprocess(ours), "deprocess");
    }

    [Fact]
    public void Activations_and_pooled_output_match_the_fixture()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var io = Io();
        var values = Network.Activations(io["inputs.net_input"], ["ReLU275_Output_0", "ReLU333_Output_0", "pooled"]);
        foreach (var (name, key) in new[] { ("ReLU275_Output_0", "outputs.ReLU275_Output_0"), ("ReLU333_Output_0", "outputs.ReLU333_Output_0"), ("pooled", "outputs.pooled") })
        {
            var (abs, ratio) = Errors(io[key], values[name], Tolerance);
            output.WriteLine($"{name}: max |err| {abs:G3}, worst err/tol {ratio:G3}, max |ref| {io[key].abs().max().item<float>():G4}");
            AssertClose(io[key], values[name], name);
        }
    }

    [Fact]
    public void Input_gradient_of_the_L2_objective_matches_the_fixture()
    {
        using var scope = NewDisposeScope();
        var io = Io();
        var x = io["inputs.net_input"].clone().requires_grad_(true);
        var act = Network.Activations(x, ["ReLU333_Output_0"])["ReLU333_Output_0"];
        act.pow(2).mean().backward();
        var expected = io["outputs.grad_net_input_l2_ReLU333_Output_0"];
        var (abs, ratio) = Errors(expected, x.grad!, Tolerance);
        output.WriteLine($"grad: max |err| {abs:G3}, worst err/tol {ratio:G3}, max |ref| {expected.abs().max().item<float>():G4}");
        AssertClose(expected, x.grad!, "grad_net_input_l2_ReLU333_Output_0");
        // The gradient's entries (~1e-5) are far below the manifest's abs 1e-4, so that rule alone would pass a zero
        // gradient: measure the error against the gradient's own scale too.
        double scale = expected.abs().max().item<float>();
        Assert.True(scale > 0);
        Assert.True(abs <= Tolerance.Rel * scale, $"gradient error {abs} exceeds {Tolerance.Rel} of its largest entry {scale}");
    }

    [Fact]
    public void Friendly_names_follow_the_graph_structure()
    {
        var net = Network;
        var relus = net.Layers.Where(l => l.Operator == "Relu").Select(l => l.Output).ToList();
        var manifest = TransformerTestSupport(Fixture)["relu_outputs_in_order"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Equal(manifest, relus);
        Assert.Equal("ReLU253_Output_0", net.Resolve("stem"));
        Assert.Equal("Pooling255_Output_0", net.Resolve("stem.pool"));
        Assert.Equal("ReLU275_Output_0", net.Resolve("stage1.block2.relu"));
        Assert.Equal("ReLU333_Output_0", net.Resolve("stage3.block1"));
        Assert.Equal("ReLU393_Output_0", net.Resolve("stage4.block3"));
        Assert.Equal("Plus331_Output_0", net.Resolve("stage3.block1.add"));
        Assert.Equal("Pooling395_Output_0", net.Resolve("pooled"));
        Assert.Equal(256, net.Channels("stage3.block1"));
        // stages of 2, 2, 2 and 3 blocks
        Assert.Equal(new[] { 2, 2, 2, 3 }, Enumerable.Range(1, 4).Select(s => net.FriendlyNames.Keys.Count(k => k.StartsWith($"stage{s}.block") && !k.Contains(".relu") && !k.EndsWith(".add"))).ToArray());
        var e = Assert.Throws<ArgumentException>(() => net.Resolve("stage9.block1"));
        Assert.Contains("stage3.block1", e.Message);
    }

    private static System.Text.Json.Nodes.JsonNode TransformerTestSupport(string fixture) => Transformer.TransformerTestSupport.Manifest(fixture);
}
