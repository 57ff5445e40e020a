using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.Pix2Pix;

/// <summary>The losses of one <see cref="Pix2PixObjective.OptimizeParameters"/> step, as upstream logs them (L1 before the λ).</summary>
public sealed record Pix2PixLosses(double D, double DReal, double DFake, double GGan, double L1);

/// <summary>
/// upstream's <c>Pix2PixModel.optimize_parameters</c> (models/pix2pix_model.py) on a G and D it is given:
/// fake_B = G(A); D step: loss_D = ½·(GAN(D(cat(A, fake_B).detach()), fake) + GAN(D(cat(A, B)), real)), Adam;
/// G step with D frozen (the already-updated D): loss_G = GAN(D(cat(A, fake_B)), real) + λ_L1·|fake_B − B|₁, Adam.
/// Optimisers: Adam(lr, (β1, 0.999)) as upstream's defaults (lr 2e-4, β1 0.5). G and D are put in training mode and
/// their parameters made trainable; the caller owns both networks.
/// </summary>
public sealed class Pix2PixObjective : IDisposable
{
    private readonly Parameter[] _dParameters;

    public Pix2PixObjective(UnetGenerator g, NLayerDiscriminator d, GanMode ganMode = GanMode.Vanilla, double lambdaL1 = 100.0,
        double lr = 2e-4, double beta1 = 0.5, double beta2 = 0.999)
    {
        G = g ?? throw new ArgumentNullException(nameof(g));
        D = d ?? throw new ArgumentNullException(nameof(d));
        if (d.Config.InputNc != g.Config.InputNc + g.Config.OutputNc)
            throw new ArgumentException($"pix2pix's discriminator sees cat(A, B): input_nc {g.Config.InputNc + g.Config.OutputNc}, got {d.Config.InputNc}.", nameof(d));
        GanMode = ganMode;
        LambdaL1 = lambdaL1;
        foreach (var p in g.parameters()) p.requires_grad = true;
        _dParameters = d.parameters().ToArray();
        foreach (var p in _dParameters) p.requires_grad = true;
        g.train();
        d.train();
        OptimizerG = optim.Adam(g.parameters(), lr: lr, beta1: beta1, beta2: beta2);
        OptimizerD = optim.Adam(_dParameters, lr: lr, beta1: beta1, beta2: beta2);
    }

    public UnetGenerator G { get; }
    public NLayerDiscriminator D { get; }
    public GanMode GanMode { get; }
    public double LambdaL1 { get; }
    public Adam OptimizerG { get; }
    public Adam OptimizerD { get; }

    /// <summary>One step on a batch: A (input, e.g. outlines) and B (targets), both [N, C, H, W] in [-1, 1].</summary>
    public Pix2PixLosses OptimizeParameters(Tensor realA, Tensor realB)
    {
        ArgumentNullException.ThrowIfNull(realA);
        ArgumentNullException.ThrowIfNull(realB);
        using var scope = NewDisposeScope();
        var fakeB = G.forward(realA);

        // backward_D
        foreach (var p in _dParameters) p.requires_grad = true;
        OptimizerD.zero_grad();
        var predFake = D.forward(cat([realA, fakeB], 1).detach());
        var lossDFake = GanLoss.Compute(predFake, false, GanMode);
        var predReal = D.forward(cat([realA, realB], 1));
        var lossDReal = GanLoss.Compute(predReal, true, GanMode);
        var lossD = (lossDFake + lossDReal) * 0.5;
        lossD.backward();
        OptimizerD.step();

        // backward_G, D frozen (set_requires_grad(netD, False))
        foreach (var p in _dParameters) p.requires_grad = false;
        try
        {
            OptimizerG.zero_grad();
            var predFakeG = D.forward(cat([realA, fakeB], 1));
            var lossGGan = GanLoss.Compute(predFakeG, true, GanMode);
            var lossL1 = F.l1_loss(fakeB, realB);
            var lossG = lossGGan + lossL1 * LambdaL1;
            lossG.backward();
            OptimizerG.step();
            return new Pix2PixLosses(lossD.item<float>(), lossDReal.item<float>(), lossDFake.item<float>(), lossGGan.item<float>(), lossL1.item<float>());
        }
        finally
        {
            foreach (var p in _dParameters) p.requires_grad = true;
        }
    }

    public void Dispose()
    {
        OptimizerG.Dispose();
        OptimizerD.Dispose();
    }
}
