using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Optimization;

/// <summary>
/// Creates TorchSharp's optimizers by name (case-insensitive) with PyTorch's default hyper-parameters, so a run
/// behaves like the Python original with the same name and learning rate.
/// </summary>
public static class OptimizerFactory
{
    /// <summary>The names <see cref="Create"/> accepts, in their canonical spelling.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "Adam", "AdamW", "Adagrad", "Adamax", "RMSprop", "RAdam", "NAdam", "SGD" };

    /// <summary>The canonical spelling of an optimizer name, or an error listing the valid names.</summary>
    public static string Canonical(string name)
    {
        var match = Names.FirstOrDefault(n => n.Equals(name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return match ?? throw new ArgumentException(
            $"Unknown optimizer '{name}'. Valid names (case-insensitive): {string.Join(", ", Names)}.", nameof(name));
    }

    public static optim.Optimizer Create(string name, IEnumerable<Parameter> parameters, double learningRate)
    {
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), $"The learning rate must be a positive number; got {learningRate}.");
        var ps = parameters.ToList();
        return Canonical(name) switch
        {
            "Adam" => optim.Adam(ps, learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8),
            "AdamW" => optim.AdamW(ps, learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01), // PyTorch's AdamW default decay
            "Adagrad" => optim.Adagrad(ps, learningRate),
            "Adamax" => optim.Adamax(ps, learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8),
            "RMSprop" => optim.RMSProp(ps, learningRate, alpha: 0.99, eps: 1e-8),
            "RAdam" => optim.RAdam(ps, learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8),
            "NAdam" => optim.NAdam(ps, learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8),
            "SGD" => optim.SGD(ps, learningRate),
            var other => throw new InvalidOperationException($"No factory for optimizer '{other}'."),
        };
    }

    /// <summary>Sets the learning rate of every parameter group.</summary>
    public static void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }
}
