using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Training;

/// <summary>
/// Adam for an embedding table that updates only the rows a step used ("lazy" Adam, as TensorFlow's LazyAdam):
/// each row keeps its own moments and step count and is bias-corrected by its own count. The clipart CLIP's
/// token table has CLIP's 49408 rows of which a caption batch touches a few dozen; dense Adam would sweep all
/// 3 million entries several times per step (seconds on a shared CPU) to move rows that never get a gradient.
/// Hand-written because TorchSharp has no sparse/lazy Adam.
/// </summary>
public sealed class RowSparseAdam : IDisposable
{
    private readonly Parameter _table;
    private readonly double _beta1, _beta2, _eps;
    private readonly Tensor _expAvg, _expAvgSq, _steps;

    public RowSparseAdam(Parameter table, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        _table = table;
        _beta1 = beta1;
        _beta2 = beta2;
        _eps = eps;
        _expAvg = zeros_like(table).detach();
        _expAvgSq = zeros_like(table).detach();
        _steps = zeros(table.shape[0], dtype: ScalarType.Float64);
    }

    /// <summary>Updates the rows <paramref name="rows"/> (int64, unique) from the table's gradient, then zeroes that gradient.</summary>
    public void Step(Tensor rows, double lr)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grad = _table.grad;
        if (grad is null) return;
        var g = grad.index_select(0, rows);
        var m = _expAvg.index_select(0, rows).mul_(_beta1).add_(g, alpha: 1 - _beta1);
        var v = _expAvgSq.index_select(0, rows).mul_(_beta2).addcmul_(g, g, value: 1 - _beta2);
        var t = _steps.index_select(0, rows).add_(1);
        var correction1 = (1 - pow(_beta1, t)).to(ScalarType.Float32).unsqueeze(1);
        var correction2 = (1 - pow(_beta2, t)).to(ScalarType.Float32).unsqueeze(1);
        var update = lr * (m / correction1) / ((v / correction2).sqrt() + _eps);
        _table.index_add_(0, rows, update, alpha: -1.0);
        _expAvg.index_copy_(0, rows, m);
        _expAvgSq.index_copy_(0, rows, v);
        _steps.index_copy_(0, rows, t);
        grad.zero_();
    }

    /// <summary>The state to checkpoint, under the given name prefix.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> State(string prefix) =>
        [(prefix + "exp_avg", _expAvg), (prefix + "exp_avg_sq", _expAvgSq), (prefix + "steps", _steps)];

    /// <summary>Restores state written by <see cref="State"/>.</summary>
    public void Load(VqganClip.Models.IO.StateDict tensors, string prefix)
    {
        using var _ = no_grad();
        foreach (var (name, target) in State(prefix))
        {
            if (!tensors.TryGetValue(name, out var source))
                throw new InvalidDataException($"Training checkpoint has no '{name}' (token-table optimizer state).");
            if (!source.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"Training checkpoint's '{name}' is [{string.Join(", ", source.shape)}], expected [{string.Join(", ", target.shape)}].");
            target.copy_(source);
        }
    }

    public void Dispose()
    {
        _expAvg.Dispose();
        _expAvgSq.Dispose();
        _steps.Dispose();
    }
}
