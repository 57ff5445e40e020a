using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using VqganClip.Models.IO;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Views;

namespace VqganClip.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public class ViewFormatterTests
{
    public ViewFormatterTests() => NotebookFormatters.Register();

    private sealed record TinyConfig(int Width, int Layers, float Scale, int[] Heads);

    private sealed class Tiny : torch.nn.Module<torch.Tensor, torch.Tensor>
    {
        private readonly torch.nn.Module<torch.Tensor, torch.Tensor> proj, head;

        public Tiny() : base(nameof(Tiny))
        {
            proj = torch.nn.Linear(4, 3);
            head = torch.nn.Linear(3, 2, hasBias: false);
            RegisterComponents();
            foreach (var p in proj.parameters()) p.requires_grad = false;
        }

        public TinyConfig Config { get; } = new(4, 2, 0.5f, [1, 2]);

        public override torch.Tensor forward(torch.Tensor x) => head.forward(proj.forward(x));
    }

    [Fact]
    public void Model_summary_counts_parameters_and_reads_the_config()
    {
        using var model = new Tiny();
        var summary = ModelSummary.Of(model);
        Assert.Equal(4 * 3 + 3 + 3 * 2, summary.Parameters);
        Assert.Equal(3 * 2, summary.Trainable);
        Assert.Equal("cpu", summary.Device.ToLowerInvariant());
        Assert.Equal([("proj", 15L), ("head", 6L)], summary.Parts);
        Assert.Contains(("Layers", "2"), summary.Config);
        Assert.Contains(("Scale", "0.5"), summary.Config);
        Assert.Contains(("Heads", "[1, 2]"), summary.Config);
    }

    [Fact]
    public void Any_torch_module_formats_as_a_model_summary()
    {
        using var model = new Tiny();
        var html = model.ToDisplayString("text/html");
        Assert.Contains("21 parameters (6 trainable)", html);
        Assert.Contains("<td>Layers</td><td>2</td>", html);
        Assert.StartsWith("Tiny: 21 parameters", model.ToDisplayString("text/plain"));
    }

    [Fact]
    public void Checkpoint_table_from_inspect_lists_every_tensor_of_the_fixture()
    {
        var path = TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors");
        var info = Checkpoint.Inspect(path);
        var table = CheckpointTable.FromInfo(info);
        Assert.Equal(info.Tensors.Count, table.Tensors.Count);
        Assert.Equal(info.TotalElements, table.TotalElements);

        var html = info.ToDisplayString("text/html");
        var first = info.Tensors[0];
        Assert.Contains($"<td>{first.Name}</td><td>{first.DType.TorchName}</td><td>{first.ShapeText}</td>", html);
        Assert.Contains("openai.safetensors", html);
        Assert.Contains($"{info.Tensors.Count} tensors", html);
        // Every top-level prefix is summarised (visual, transformer, ...).
        foreach (var prefix in info.Tensors.Select(t => t.Name.Split('.')[0]).Distinct())
            Assert.Contains($"<td>{prefix}</td>", html);
        if (info.Tensors.Count > CheckpointTable.FoldAbove) Assert.Contains("<details>", html);
    }

    [Fact]
    public void Checkpoint_table_from_a_loaded_state_dict_matches_inspect()
    {
        var path = TestSetup.Fixtures("vqgan-f16-tiny", "model.safetensors");
        using var stateDict = Checkpoint.Load(path);
        var loaded = CheckpointTable.FromStateDict(stateDict);
        var inspected = CheckpointTable.FromInfo(Checkpoint.Inspect(path));
        Assert.Equal(inspected.Tensors.Select(t => (t.Name, t.DType, t.ShapeText, t.Bytes)),
                     loaded.Tensors.Select(t => (t.Name, t.DType, t.ShapeText, t.Bytes)));
        var text = stateDict.ToDisplayString("text/plain");
        Assert.Contains(stateDict.Keys[0], text);
        Assert.Contains("safetensors", text);
    }
}
