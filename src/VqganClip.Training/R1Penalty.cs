using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// rosinality's <c>d_r1_loss</c> (stylegan2-pytorch train.py): E‖∇ₓ D(x)‖² on real images, with the graph kept so the
/// penalty can be back-propagated into D. Shared by the StyleGAN2 and BigGAN trainers' lazy R1 steps.
/// </summary>
public static class R1Penalty
{
    /// <summary>
    /// Scores <paramref name="real"/> (detached, then requiring grad) with <paramref name="discriminator"/> and returns
    /// the penalty and the scores (logits of any shape; train.py adds 0 · real_pred[0] to its loss so every D output
    /// takes part in the graph).
    /// </summary>
    public static (Tensor Penalty, Tensor RealPred) Compute(Func<Tensor, Tensor> discriminator, Tensor real)
    {
        ArgumentNullException.ThrowIfNull(discriminator);
        var realInput = real.detach().requires_grad_(true);
        var realPred = discriminator(realInput);
        // torch keeps the graph when create_graph is set (retain_graph defaults to it); TorchSharp does not, so it is asked for.
        var grad = autograd.grad([realPred.sum()], [realInput], retain_graph: true, create_graph: true)[0];
        return (grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean(), realPred);
    }
}
