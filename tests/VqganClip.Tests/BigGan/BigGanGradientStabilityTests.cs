using VqganClip.Models.BigGan;
using VqganClip.Models.Runtime;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.BigGan.BigGanTestSupport;

namespace VqganClip.Tests.BigGan;

/// <summary>
/// The tiny BigGAN's convolutions have 2-16 filters, where libtorch's CPU float32 input gradient is racy with several
/// threads (see <see cref="NarrowConvolution"/>): with two threads, the gradient w.r.t. z must be the same every call.
/// </summary>
[Collection("Training")]
public class BigGanGradientStabilityTests
{
    static BigGanGradientStabilityTests() => TransformerTestSupport.EnsureTorch();

    [Fact]
    public void Gradient_wrt_z_is_the_same_every_call_with_two_threads()
    {
        int before = TorchRuntime.Threads;
        TorchRuntime.SetThreads(2);
        try
        {
            using var model = LoadDeep();
            using var generator = new TorchSharp.torch.Generator(5);
            using var z = randn(32, 16, generator: generator);
            using var classes = rand(32, 10, generator: generator);
            using var readout = randn(32, 3, 32, 32, generator: generator);
            Tensor Gradient()
            {
                using var scope = NewDisposeScope();
                var input = z.detach().requires_grad_(true);
                var loss = (model.Forward(input, classes, 1.0) * readout).sum();
                return autograd.grad([loss], [input])[0].detach().MoveToOuterDisposeScope();
            }
            using var first = Gradient();
            Assert.True(first.isfinite().all().item<bool>());
            for (int i = 0; i < 10; i++)
            {
                using var again = Gradient();
                Assert.True(again.equal(first).all().item<bool>(), $"repeat {i}: the gradient w.r.t. z changed between identical calls");
            }
        }
        finally { TorchRuntime.SetThreads(before); }
    }
}
