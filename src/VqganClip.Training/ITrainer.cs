namespace VqganClip.Training;

/// <summary>What <see cref="TrainingSession"/> drives: one model being trained on clipart scenes, step by step.</summary>
public interface ITrainer : IDisposable
{
    /// <summary>"vqgan" or "clip": the checkpoint kind written to <c>state.json</c>.</summary>
    string Kind { get; }

    /// <summary>Steps done so far (the next step's zero-based index).</summary>
    long Step { get; }

    /// <summary>Steps the run is planned for (the learning-rate schedule ends there).</summary>
    long TotalSteps { get; }

    /// <summary>The evaluation metric that decides which export is the best one (higher is better).</summary>
    string PrimaryMetric { get; }

    /// <summary>One optimisation step; returns the losses (and anything else worth logging) of that step.</summary>
    IReadOnlyDictionary<string, double> TrainStep();

    /// <summary>Metrics on the first <paramref name="heldOutScenes"/> held-out scenes (no gradients).</summary>
    IReadOnlyDictionary<string, double> Evaluate(int heldOutScenes);

    /// <summary>Writes a resumable checkpoint folder (weights, optimizer state, step, trainer state).</summary>
    void SaveCheckpoint(string directory);

    /// <summary>Writes the trained model in its shipping form (safetensors with reference key names, plus any side file).</summary>
    void Export(string path);
}
