using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Models.BigGan;

/// <summary>
/// upstream's <c>BigGANBatchNorm</c>: batch norm over standing statistics (buffers <c>running_means</c>,
/// <c>running_vars</c> [n_stats, C], one row per truncation, see <see cref="TruncationStats"/>).
/// Conditional (GenBlock's bn_0..bn_3): gain 1 + <c>scale</c>(cond) and bias <c>offset</c>(cond), both SN-linear
/// without bias. Unconditional (<c>generator.bn</c>): parameters <c>weight</c>, <c>bias</c>, via F.batch_norm.
/// eps is config.eps.
/// <para>Eval mode (inference) uses the standing statistics for the truncation. Training mode normalises with the
/// batch's own statistics (mean and biased variance over N, H, W) and leaves the buffers alone: a trainer fills the
/// standing statistics afterwards, as BigGAN-PyTorch's <c>accumulate_standing_stats</c> does (run the generator in
/// training mode at each truncation and average).</para>
/// </summary>
public sealed class BigGanBatchNorm : nn.Module
{
#pragma warning disable IDE1006
    private readonly Tensor running_means;
    private readonly Tensor running_vars;
    private readonly SNLinear? scale;
    private readonly SNLinear? offset;
    private readonly Parameter? weight;
    private readonly Parameter? bias;
#pragma warning restore IDE1006

    /// <param name="conditionDim">cond size (2·z_dim) for a conditional norm; null for the unconditional one.</param>
    public BigGanBatchNorm(long numFeatures, long? conditionDim, int nStats, double eps) : base(nameof(BigGanBatchNorm))
    {
        NumFeatures = numFeatures;
        Eps = eps;
        Conditional = conditionDim is not null;
        running_means = zeros(nStats, numFeatures);
        running_vars = ones(nStats, numFeatures);
        if (conditionDim is long dim)
        {
            register_buffer("running_means", running_means);
            register_buffer("running_vars", running_vars);
            scale = new SNLinear(dim, numFeatures, hasBias: false, eps);
            offset = new SNLinear(dim, numFeatures, hasBias: false, eps);
            register_module("scale", scale);
            register_module("offset", offset);
        }
        else
        {
            // PyTorch lists parameters before buffers in state_dict().
            weight = new Parameter(ones(numFeatures));
            bias = new Parameter(zeros(numFeatures));
            register_parameter("weight", weight);
            register_parameter("bias", bias);
            register_buffer("running_means", running_means);
            register_buffer("running_vars", running_vars);
        }
        ModuleTensors.DetachFromDisposeScopes(this);
    }

    public long NumFeatures { get; }
    public double Eps { get; }
    public bool Conditional { get; }

    /// <summary>The standing means [n_stats, C] (a buffer: do not dispose; a trainer writes accumulated statistics into it).</summary>
    public Tensor RunningMeans => running_means;

    /// <summary>The standing variances [n_stats, C] (a buffer: do not dispose).</summary>
    public Tensor RunningVars => running_vars;

    /// <summary>
    /// Training mode only: when set, receives every forward's batch mean and biased variance [C] (detached, valid
    /// during the call). A trainer accumulates the standing statistics with it (BigGAN-PyTorch's accumulate_standing_stats).
    /// </summary>
    public Action<Tensor, Tensor>? BatchStatisticsObserver { get; set; }

    /// <summary>Normalises x [B, C, H, W]; <paramref name="condition"/> [B, cond] is required for a conditional norm.</summary>
    public Tensor Forward(Tensor x, double truncation, Tensor? condition = null)
    {
        using var scope = NewDisposeScope();
        Tensor mean, variance;
        if (training)
        {
            mean = x.mean([0L, 2L, 3L]);
            variance = x.var([0L, 2L, 3L], unbiased: false);
            BatchStatisticsObserver?.Invoke(mean.detach(), variance.detach());
        }
        else
        {
            mean = TruncationStats.Select(running_means, truncation);
            variance = TruncationStats.Select(running_vars, truncation);
        }

        if (Conditional)
        {
            if (condition is null) throw new ArgumentNullException(nameof(condition), "A conditional BigGANBatchNorm needs the condition vector.");
            var m = mean.unsqueeze(0).unsqueeze(-1).unsqueeze(-1);
            var v = variance.unsqueeze(0).unsqueeze(-1).unsqueeze(-1);
            var gain = scale!.forward(condition).unsqueeze(-1).unsqueeze(-1) + 1;
            var shift = offset!.forward(condition).unsqueeze(-1).unsqueeze(-1);
            // upstream's order of operations: (x - mean) / sqrt(var + eps) * weight + bias.
            return ((x - m) / (v + Eps).sqrt() * gain + shift).MoveToOuterDisposeScope();
        }
        if (training)
        {
            // F.batch_norm(training: false) refuses running statistics that carry a gradient (the batch's own do):
            // the same arithmetic by hand, so gradients reach x through the batch statistics, weight and bias.
            var m = mean.unsqueeze(0).unsqueeze(-1).unsqueeze(-1);
            var v = variance.unsqueeze(0).unsqueeze(-1).unsqueeze(-1);
            return ((x - m) / (v + Eps).sqrt() * weight!.unsqueeze(0).unsqueeze(-1).unsqueeze(-1)
                    + bias!.unsqueeze(0).unsqueeze(-1).unsqueeze(-1)).MoveToOuterDisposeScope();
        }
        return F.batch_norm(x, mean, variance, weight, bias, training: false, momentum: 0.0, eps: Eps).MoveToOuterDisposeScope();
    }
}
