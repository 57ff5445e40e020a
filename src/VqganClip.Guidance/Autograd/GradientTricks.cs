using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Autograd;

/// <summary>
/// The two gradient tricks of the original notebook (Katherine Crowson's <c>ReplaceGrad</c> and <c>ClampWithGrad</c>).
/// </summary>
public static class GradientTricks
{
    /// <summary>
    /// The value of <paramref name="forward"/> with the gradient of <paramref name="backward"/> (the original's
    /// <c>replace_grad</c>). Written as <c>forward.detach() + (backward - backward.detach())</c>: the second term is
    /// exactly zero in value, so the forward value is bit-identical to <paramref name="forward"/>, while the gradient
    /// flows into <paramref name="backward"/> unchanged. Both must have the same shape (or broadcast to
    /// <paramref name="forward"/>'s shape; autograd then sums the gradient back like the original's <c>sum_to_size</c>).
    /// </summary>
    public static Tensor ReplaceGrad(Tensor forward, Tensor backward)
    {
        using var f = forward.detach();
        using var b = backward.detach();
        using var zero = backward - b;
        return f + zero;
    }

    /// <summary>
    /// Clamps to [min, max] in the forward pass; in the backward pass lets the gradient through wherever the input is in
    /// range, or where a descent step would move it back towards the range (the original's <c>ClampWithGrad</c>:
    /// <c>grad * (grad * (x - clamp(x)) &gt;= 0)</c>). A plain clamp would zero those gradients and let saturated pixels stick.
    /// </summary>
    public static Tensor ClampWithGrad(Tensor input, double min, double max) =>
        ClampWithGradFunction.apply(input, min, max);

    private sealed class ClampWithGradFunction : autograd.SingleTensorFunction<ClampWithGradFunction>
    {
        public override string Name => nameof(ClampWithGradFunction);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            double min = (double)vars[1], max = (double)vars[2];
            ctx.save_for_backward(new List<Tensor> { input });
            ctx.save_data("min", min);
            ctx.save_data("max", max);
            return input.clamp(min, max);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var input = ctx.get_saved_variables()[0];
            double min = (double)ctx.get_data("min"), max = (double)ctx.get_data("max");
            using var clamped = input.clamp(min, max);
            using var outside = input - clamped;
            using var push = gradOutput * outside;
            using var keep = push.ge(0);
            var grad = gradOutput * keep;
            return new List<Tensor> { grad, null!, null! };
        }
    }
}
