using VqganClip.Models.BigGan;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.BigGan.BigGanTestSupport;

namespace VqganClip.Tests.BigGan;

/// <summary>bigsleep-biggan-tiny: big_sleep/biggan.py's per-block-latent forward and its gradients through sigmoid(cls).</summary>
public class BigSleepPerBlockParityTests
{
    static BigSleepPerBlockParityTests() => TransformerTestSupport.EnsureTorch();

    // The fixture has only model.safetensors; its config is the one in the manifest (the same as biggan-deep-tiny's config.json).
    private static BigGanModel Load() => BigGanModel.Load(Fixture(BigGanTestSupport.BigSleep, "model.safetensors"), Fixture(Deep, "config.json"));

    [Fact]
    public void Per_block_image_and_gradients_match_big_sleep()
    {
        using var model = Load();
        using var io = Io(BigGanTestSupport.BigSleep);
        using var scope = NewDisposeScope();
        Assert.Equal(io["inputs.normu"].shape[0], model.NumLatents);
        var normu = io["inputs.normu"].clone().requires_grad_(true);
        var cls = io["inputs.cls"].clone().requires_grad_(true);
        var image01 = (model.ForwardPerBlock(normu, cls.sigmoid(), 1.0) + 1) / 2;
        AssertClose(io["outputs.image01"], image01, "image01", Tolerance(BigGanTestSupport.BigSleep));
        (image01 * io["inputs.readout"]).sum().backward();
        AssertClose(io["outputs.grad_normu"], normu.grad!, "grad_normu", Tolerance(BigGanTestSupport.BigSleep));
        AssertClose(io["outputs.grad_cls"], cls.grad!, "grad_cls", Tolerance(BigGanTestSupport.BigSleep));
    }

    [Fact]
    public void Per_block_forward_with_equal_rows_is_the_shared_forward()
    {
        using var model = Load();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new TorchSharp.torch.Generator(3);
        var z = randn(1, model.Config.ZDim, generator: generator);
        var cls = rand(1, model.Config.NumClasses, generator: generator);
        var shared = model.Forward(z, cls, 0.5);
        var perBlock = model.ForwardPerBlock(z.expand(model.NumLatents + 2, -1), cls.expand(model.NumLatents + 2, -1), 0.5);
        AssertClose(shared, perBlock, "per-block with equal rows (and two unused extra rows)", (1e-6, 1e-5));
    }

    [Fact]
    public void Too_few_latent_rows_is_an_error_naming_the_count()
    {
        using var model = Load();
        using var latents = zeros(model.NumLatents - 1, model.Config.ZDim);
        using var classes = zeros(model.NumLatents - 1, model.Config.NumClasses);
        var e = Assert.Throws<ArgumentException>(() => model.ForwardPerBlock(latents, classes));
        Assert.Contains($"[{model.NumLatents} (or more)", e.Message);
    }
}
