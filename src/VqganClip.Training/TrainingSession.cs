namespace VqganClip.Training;

/// <summary>Where and how often a <see cref="TrainingSession"/> saves, evaluates and exports.</summary>
/// <param name="RunDirectory">Run folder: <c>log.jsonl</c>, <c>checkpoint/</c>, <c>best/</c> (export with the best metric so far).</param>
/// <param name="OutputPath">Where the final model is exported (the shipping file).</param>
/// <param name="CheckpointEvery">Steps between resumable checkpoints (0 = only at the end).</param>
/// <param name="EvalEvery">Steps between held-out evaluations (0 = only at the end).</param>
/// <param name="EvalScenes">Held-out scenes of the periodic evaluations.</param>
/// <param name="FinalEvalScenes">Held-out scenes of the final evaluation.</param>
public sealed record TrainingSessionOptions(
    string RunDirectory,
    string OutputPath,
    int CheckpointEvery = 200,
    int EvalEvery = 500,
    int EvalScenes = 200,
    int FinalEvalScenes = 1000);

/// <summary>
/// Runs a trainer to its planned step count: logs every step to <c>log.jsonl</c>, writes a resumable checkpoint
/// every <see cref="TrainingSessionOptions.CheckpointEvery"/> steps, evaluates on held-out scenes and exports the
/// best model so far to <c>best/</c>, and at the end exports the final model to the output path. Stops cleanly
/// (checkpoint written) when cancelled.
/// </summary>
public sealed class TrainingSession
{
    private readonly ITrainer _trainer;
    private readonly TrainingSessionOptions _options;

    public TrainingSession(ITrainer trainer, TrainingSessionOptions options)
    {
        _trainer = trainer ?? throw new ArgumentNullException(nameof(trainer));
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    public string CheckpointDirectory => Path.Combine(_options.RunDirectory, "checkpoint");
    public string BestDirectory => Path.Combine(_options.RunDirectory, "best");

    /// <summary>Called after every step with (step done, losses).</summary>
    public event Action<long, IReadOnlyDictionary<string, double>>? Stepped;

    /// <summary>Called after every evaluation with (step, metrics, whether it is the best so far).</summary>
    public event Action<long, IReadOnlyDictionary<string, double>, bool>? Evaluated;

    /// <summary>Called after a checkpoint is written.</summary>
    public event Action<long, string>? Checkpointed;

    /// <returns>The final evaluation's metrics (null when cancelled before the end).</returns>
    public IReadOnlyDictionary<string, double>? Run(CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(_options.RunDirectory);
        using var log = new TrainingLog(Path.Combine(_options.RunDirectory, "log.jsonl"));
        log.Write("start", new Dictionary<string, object?> { ["trainer"] = _trainer.Kind, ["step"] = _trainer.Step, ["total_steps"] = _trainer.TotalSteps });
        double best = ReadBest();
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();

        while (_trainer.Step < _trainer.TotalSteps)
        {
            if (cancellation.IsCancellationRequested)
            {
                Checkpoint(log);
                log.Write("stopped", new Dictionary<string, object?> { ["step"] = _trainer.Step });
                return null;
            }
            var losses = _trainer.TrainStep();
            long step = _trainer.Step;
            var record = losses.ToDictionary(kv => kv.Key, kv => (object?)kv.Value);
            record["step"] = step;
            record["seconds"] = stopwatch.Elapsed.TotalSeconds;
            log.Write("train", record);
            Stepped?.Invoke(step, losses);

            bool last = step == _trainer.TotalSteps;
            if (!last && _options.EvalEvery > 0 && step % _options.EvalEvery == 0)
                best = EvaluateAndExport(log, _options.EvalScenes, best);
            if (last || (_options.CheckpointEvery > 0 && step % _options.CheckpointEvery == 0))
                Checkpoint(log);
        }

        var final = _trainer.Evaluate(_options.FinalEvalScenes);
        LogMetrics(log, "final_eval", final, _options.FinalEvalScenes);
        _trainer.Export(_options.OutputPath);
        log.Write("exported", new Dictionary<string, object?> { ["step"] = _trainer.Step, ["path"] = Path.GetFullPath(_options.OutputPath) });
        Evaluated?.Invoke(_trainer.Step, final, final[_trainer.PrimaryMetric] >= best);
        return final;
    }

    private double EvaluateAndExport(TrainingLog log, int scenes, double best)
    {
        var metrics = _trainer.Evaluate(scenes);
        LogMetrics(log, "eval", metrics, scenes);
        double value = metrics[_trainer.PrimaryMetric];
        bool improved = value > best;
        if (improved)
        {
            Directory.CreateDirectory(BestDirectory);
            _trainer.Export(Path.Combine(BestDirectory, Path.GetFileName(_options.OutputPath)));
            File.WriteAllText(Path.Combine(BestDirectory, "metrics.json"), System.Text.Json.JsonSerializer.Serialize(
                new Dictionary<string, object> { ["step"] = _trainer.Step, ["scenes"] = scenes, ["metrics"] = metrics }));
            best = value;
        }
        Evaluated?.Invoke(_trainer.Step, metrics, improved);
        return best;
    }

    private void LogMetrics(TrainingLog log, string kind, IReadOnlyDictionary<string, double> metrics, int scenes)
    {
        var record = metrics.ToDictionary(kv => kv.Key, kv => (object?)kv.Value);
        record["step"] = _trainer.Step;
        record["scenes"] = scenes;
        log.Write(kind, record);
    }

    private void Checkpoint(TrainingLog log)
    {
        _trainer.SaveCheckpoint(CheckpointDirectory);
        log.Write("checkpoint", new Dictionary<string, object?> { ["step"] = _trainer.Step, ["path"] = CheckpointDirectory });
        Checkpointed?.Invoke(_trainer.Step, CheckpointDirectory);
    }

    /// <summary>The metric of the best export of an earlier (resumed) session, so a resumed run does not overwrite it with a worse one.</summary>
    private double ReadBest()
    {
        var path = Path.Combine(BestDirectory, "metrics.json");
        if (!File.Exists(path)) return double.NegativeInfinity;
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path));
            return node?["metrics"]?[_trainer.PrimaryMetric]?.GetValue<double>() ?? double.NegativeInfinity;
        }
        catch (System.Text.Json.JsonException)
        {
            return double.NegativeInfinity;
        }
    }
}
