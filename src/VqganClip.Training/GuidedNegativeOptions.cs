namespace VqganClip.Training;

/// <summary>Settings of <see cref="GuidedNegativePool"/>: guided pictures as negatives in CLIP training.</summary>
public sealed record GuidedNegativeOptions
{
    /// <summary>The VQGAN checkpoint guidance drives (its taming YAML beside it, as <c>VqganModel.Load</c> finds it).</summary>
    public required string VqganPath { get; init; }

    /// <summary>Chains in the pool.</summary>
    public int PoolSize { get; init; } = 64;

    /// <summary>Chains advanced (and used as negatives) per training step.</summary>
    public int Batch { get; init; } = 16;

    /// <summary>Guidance steps each advanced chain takes per training step.</summary>
    public int StepsPerAdvance { get; init; } = 2;

    /// <summary>Guidance steps after which a chain restarts from random codes with a new scene.</summary>
    public int MaxAge { get; init; } = 150;

    /// <summary>Adam learning rate of the chains (generate's default 0.1).</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Augmented cutouts per chain and guidance step.</summary>
    public int Cutouts { get; init; } = 4;

    /// <summary>Weight of the "drawing before guided picture" term against the contrastive loss.</summary>
    public double Weight { get; init; } = 1.0;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(VqganPath)) throw new ArgumentException("Guided negatives need a VQGAN checkpoint (VqganPath).");
        if (PoolSize < 1) throw new ArgumentException($"PoolSize must be positive (got {PoolSize}).");
        if (Batch < 1 || Batch > PoolSize) throw new ArgumentException($"Batch must be between 1 and the pool size {PoolSize} (got {Batch}).");
        if (StepsPerAdvance < 1) throw new ArgumentException($"StepsPerAdvance must be at least 1 (got {StepsPerAdvance}).");
        if (MaxAge < 1) throw new ArgumentException($"MaxAge must be at least 1 (got {MaxAge}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"LearningRate of the chains must be positive (got {LearningRate}).");
        if (Cutouts < 1) throw new ArgumentException($"Cutouts must be at least 1 (got {Cutouts}).");
        if (!(Weight >= 0)) throw new ArgumentException($"Weight must not be negative (got {Weight}).");
    }
}
