using System.CommandLine;
using VqganClip.Clipart.Judge;
using VqganClip.Guidance.Prompts;
using VqganClip.Models.Runtime;
using VqganClip.Training;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train transformer</c>: trains the clipart transformer (VQGAN's second stage, caption-conditioned)
/// over a trained first-stage VQGAN and exports it as one Net2NetTransformer safetensors file (first stage included)
/// plus its project YAML. Resumable from its run folder.
/// </summary>
public static class TrainTransformerCommand
{
    public const string DefaultOutput = "data/clipart-transformer.safetensors";
    public const string DefaultWords = "data/clipart-clip.vocab.txt";

    public static Command Create()
    {
        var defaults = new TransformerTrainingOptions();
        var firstStage = new Option<string?>("--first-stage") { Description = "The trained first-stage VQGAN (e.g. the f8 export of train vqgan --architecture f8)" };
        var words = new Option<string>("--words") { Description = "Word list (a .vocab.txt) whose BPE tokens make the caption vocabulary", DefaultValueFactory = _ => DefaultWords };
        var steps = new Option<long?>("--steps") { Description = $"Training steps (default {defaults.Steps}; with --resume: the run's own plan)" };
        var batch = new Option<int>("--batch") { Description = "Scenes per step", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak AdamW learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights and the training scenes", DefaultValueFactory = _ => defaults.Seed };
        var layers = new Option<int>("--layers") { Description = "GPT blocks (n_layer)", DefaultValueFactory = _ => defaults.Layers };
        var heads = new Option<int>("--heads") { Description = "Attention heads (n_head)", DefaultValueFactory = _ => defaults.Heads };
        var width = new Option<int>("--width") { Description = "Embedding width (n_embd)", DefaultValueFactory = _ => defaults.Width };
        var captionLength = new Option<int>("--caption-length") { Description = "Caption tokens in the prefix", DefaultValueFactory = _ => defaults.CaptionLength };
        var oneObjectBig = new Option<double>("--one-object-big-share") { Description = "Share of each step's scenes drawn as one-object scenes with a big object (0-1; the rest are the world's scenes, pairs included)", DefaultValueFactory = _ => defaults.OneObjectBigShare };
        var oneObjectPlace = new Option<string>("--one-object-place") { Description = "Where those one-object scenes put their object: any (the world's places) or middle (the YAML then says drawn_at: middle, and generate moves each picture to the caption's place)", DefaultValueFactory = _ => "any" };
        var oneObjectCanonical = new Option<bool>("--one-object-canonical") { Description = "Draw those one-object scenes without the world's jitter: the object at its place's canonical spot and size, upright (one pattern of codes per kind, colour and backdrop)" };
        var output = new Option<string>("--out") { Description = "Exported model (.safetensors; the project .yaml goes beside it)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/ and best/ (default runs/transformer-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between held-out evaluations (best/ keeps the best export)", DefaultValueFactory = _ => 500 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 100 };
        var evalScenes = new Option<int>("--eval-scenes") { Description = "Held-out scenes of the periodic evaluations (the final one uses 1000)", DefaultValueFactory = _ => 256 };
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("transformer", "Train the clipart transformer (taming's GPT over a VQGAN's codes, conditioned on the caption) and export it as safetensors + project YAML")
        {
            firstStage, words, steps, batch, lr, seed, layers, heads, width, captionLength, oneObjectBig, oneObjectPlace, oneObjectCanonical, output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, printEvery,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            int renderThreads = Math.Max(1, parse.GetValue(threads));
            var wordsPath = TrainingConsole.RepoPath(parse.GetValue(words)!);
            if (!File.Exists(wordsPath)) throw new FileNotFoundException($"Word list '{wordsPath}' does not exist.", wordsPath);
            var captionWords = PromptVocabulary.Parse(File.ReadAllLines(wordsPath)).Words;
            var judge = new SceneJudge(ObjectClassifier.LoadDefault());
            TransformerTrainer trainer;
            string runDirectory;
            if (parse.GetValue(resume) is { } resumePath)
            {
                var (runDir, checkpointDir) = TrainingConsole.ResolveResume(resumePath);
                trainer = TransformerTrainer.Resume(checkpointDir, captionWords, parse.GetValue(steps), renderThreads, judge);
                runDirectory = parse.GetValue(run) ?? runDir;
            }
            else
            {
                var stage = parse.GetValue(firstStage) ?? throw new ArgumentException("--first-stage is required: the trained VQGAN whose codes the transformer learns.");
                var options = defaults with
                {
                    FirstStage = TrainingConsole.RepoPath(stage),
                    Steps = parse.GetValue(steps) ?? defaults.Steps,
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    Seed = parse.GetValue(seed),
                    Layers = parse.GetValue(layers),
                    Heads = parse.GetValue(heads),
                    Width = parse.GetValue(width),
                    CaptionLength = parse.GetValue(captionLength),
                    OneObjectBigShare = parse.GetValue(oneObjectBig),
                    OneObjectPlace = TransformerTrainingOptions.ParsePlace(parse.GetValue(oneObjectPlace)!),
                    OneObjectCanonical = parse.GetValue(oneObjectCanonical),
                };
                trainer = new TransformerTrainer(options, captionWords, renderThreads, judge);
                runDirectory = parse.GetValue(run) ?? TrainingConsole.RepoPath(Path.Combine("runs", $"transformer-{DateTime.Now:yyyyMMdd-HHmmss}"));
            }
            using (trainer)
            {
                var session = new TrainingSessionOptions(runDirectory, TrainingConsole.RepoPath(parse.GetValue(output)!),
                    parse.GetValue(checkpointEvery), parse.GetValue(evalEvery), parse.GetValue(evalScenes));
                return TrainingConsole.Run(trainer, session,
                    ["loss", "token_accuracy", "grad_norm", "skipped", "lr"],
                    ["ce", "token_accuracy", "satisfied", "kind_right"], parse.GetValue(printEvery));
            }
        });
        return command;
    }
}
