using System.CommandLine;
using VqganClip.Guidance;
using VqganClip.Models.Runtime;
using VqganClip.Training;
using VqganClip.Training.AudioClip;

namespace VqganClip.Tool.Commands.Train;

/// <summary>
/// <c>vqgan-clip train audioclip</c>: speaks clipart captions with espeak-ng (cached under the run folder) and trains a
/// small ESResNeXt-fbsp audio head into the shipped clipart CLIP's space; exports it as AudioCLIP safetensors that
/// <c>generate --audio-prompt FILE.wav --audioclip FILE</c> and <c>score --audio</c> read. Resumable from its run folder.
/// </summary>
public static class TrainAudioClipCommand
{
    public const string DefaultOutput = "data/clipart-audioclip.safetensors";

    public static Command Create()
    {
        var d = new AudioClipTrainingOptions();
        var steps = new Option<long?>("--steps") { Description = $"Training steps (default {d.Steps}; with --resume: the run's own plan)" };
        var batch = new Option<int>("--batch") { Description = "Spoken captions per step (the contrastive batch)", DefaultValueFactory = _ => d.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of the head (warm-up, then cosine to a tenth)", DefaultValueFactory = _ => d.LearningRate };
        var fbspLr = new Option<double>("--fbsp-lr") { Description = "Adam learning rate of the Fourier basis once it learns", DefaultValueFactory = _ => d.FbspLearningRate };
        var warmup = new Option<long>("--warmup") { Description = "Warm-up steps", DefaultValueFactory = _ => d.WarmupSteps };
        var frozen = new Option<long?>("--frozen-fbsp-steps") { Description = "Steps with the Fourier basis frozen at its initialisation and its output cached (default: all)" };
        var frozenBn = new Option<long>("--frozen-bn-steps") { Description = "Last steps with batch-norm statistics measured afresh and frozen, so training computes what inference does (0 = live statistics throughout)", DefaultValueFactory = _ => d.FrozenBatchNormSteps };
        var lengthWindow = new Option<int>("--length-window") { Description = "Draw each batch among this many clips of neighbouring length (less padding; 0 = the whole pool)", DefaultValueFactory = _ => d.LengthWindow };
        var clips = new Option<int>("--clips") { Description = "Spoken training captions (each in one training voice, speed and pitch)", DefaultValueFactory = _ => d.TrainingClips };
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, captions, voices and batches", DefaultValueFactory = _ => d.Seed };
        var clip = new Option<string?>("--clip") { Description = "The frozen CLIP whose text space the head learns (default: the shipped data/clipart-clip.safetensors)" };
        var nfft = new Option<int>("--n-fft") { Description = "Fourier basis size (bins = n_fft/2 + 1)", DefaultValueFactory = _ => d.NFft };
        var win = new Option<int>("--win-length") { Description = "Frame window (samples at 44.1 kHz)", DefaultValueFactory = _ => d.WinLength };
        var hop = new Option<int>("--hop-length") { Description = "Frame hop (samples at 44.1 kHz)", DefaultValueFactory = _ => d.HopLength };
        var stem = new Option<int>("--stem") { Description = "conv1 channels", DefaultValueFactory = _ => d.StemWidth };
        var blocks = new Option<string>("--blocks") { Description = "Bottlenecks per stage", DefaultValueFactory = _ => string.Join(",", d.Blocks) };
        var widths = new Option<string>("--widths") { Description = "Grouped 3x3 width per stage", DefaultValueFactory = _ => string.Join(",", d.Widths) };
        var outputs = new Option<string>("--outputs") { Description = "Output channels per stage", DefaultValueFactory = _ => string.Join(",", d.Outputs) };
        var groups = new Option<int>("--groups") { Description = "Groups of the 3x3 convolutions", DefaultValueFactory = _ => d.Groups };
        var wideVoices = new Option<bool>("--wide-voices") { Description = "Speak the training captions in 77 voices (7 English accents x 11 variants, 120-240 wpm, pitch 15-90) instead of 20; never the held-out accent or variant" };
        var augGain = new Option<double>("--aug-gain-db") { Description = "Augmentation: a random gain in +-this many dB on each cached decibel input per step (0 = none)", DefaultValueFactory = _ => d.AugGainDb };
        var augWarp = new Option<double>("--aug-freq-warp") { Description = "Augmentation: the spectrum stretched by a random factor in 1 +- this (vocal-tract-length perturbation; 0 = none)", DefaultValueFactory = _ => d.AugFreqWarp };
        var augTimeMasks = new Option<int>("--aug-time-masks") { Description = "Augmentation: SpecAugment time masks per clip (runs of frames set to the clip's mean dB)", DefaultValueFactory = _ => d.AugTimeMasks };
        var augTimeFrames = new Option<int>("--aug-time-mask-frames") { Description = "Augmentation: the longest time mask, in frames", DefaultValueFactory = _ => d.AugTimeMaskFrames };
        var augFreqMasks = new Option<int>("--aug-freq-masks") { Description = "Augmentation: SpecAugment frequency masks per clip", DefaultValueFactory = _ => d.AugFreqMasks };
        var augFreqBins = new Option<int>("--aug-freq-mask-bins") { Description = "Augmentation: the widest frequency mask, in bins", DefaultValueFactory = _ => d.AugFreqMaskBins };
        var output = new Option<string>("--out") { Description = "Exported audio head (.safetensors)", DefaultValueFactory = _ => DefaultOutput };
        var run = new Option<string?>("--run") { Description = "Run folder for log.jsonl, checkpoint/, best/ and the spoken-caption cache spoken/ (default runs/audioclip-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder (its checkpoint/ or the checkpoint folder itself)" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default)", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between held-out evaluations (best/ keeps the highest top-1; 0 = only at the end)", DefaultValueFactory = _ => 0 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => 100 };
        var evalScenes = new Option<int>("--eval-scenes") { Description = "Held-out captions (held-out voice) of the periodic evaluations", DefaultValueFactory = _ => 100 };
        var finalScenes = new Option<int>("--final-scenes") { Description = "Held-out captions of the final evaluation", DefaultValueFactory = _ => 100 };
        var printEvery = new Option<int>("--print-every") { Description = "Steps between log lines when output is redirected", DefaultValueFactory = _ => 10 };

        var command = new Command("audioclip", "Speak clipart captions with espeak-ng and train a small AudioCLIP audio head into the shipped CLIP's space")
        {
            steps, batch, lr, fbspLr, warmup, frozen, frozenBn, lengthWindow, clips, seed, clip, nfft, win, hop, stem, blocks, widths, outputs, groups,
            wideVoices, augGain, augWarp, augTimeMasks, augTimeFrames, augFreqMasks, augFreqBins,
            output, run, resume, threads, evalEvery, checkpointEvery, evalScenes, finalScenes, printEvery,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.SetThreads(parse.GetValue(threads));
            void Report(string line) => Console.WriteLine(line);
            AudioClipTrainer trainer;
            string runDirectory;
            if (parse.GetValue(resume) is { } resumePath)
            {
                var (runDir, checkpointDir) = TrainingConsole.ResolveResume(resumePath);
                trainer = AudioClipTrainer.Resume(checkpointDir, parse.GetValue(steps), report: Report);
                runDirectory = parse.GetValue(run) ?? runDir;
            }
            else
            {
                runDirectory = Path.GetFullPath(parse.GetValue(run) ?? TrainingConsole.RepoPath(Path.Combine("runs", $"audioclip-{DateTime.Now:yyyyMMdd-HHmmss}")));
                var options = d with
                {
                    Steps = parse.GetValue(steps) ?? d.Steps,
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    FbspLearningRate = parse.GetValue(fbspLr),
                    WarmupSteps = parse.GetValue(warmup),
                    FrozenFbspSteps = parse.GetValue(frozen) ?? long.MaxValue,
                    FrozenBatchNormSteps = parse.GetValue(frozenBn),
                    LengthWindow = parse.GetValue(lengthWindow),
                    TrainingClips = parse.GetValue(clips),
                    Seed = parse.GetValue(seed),
                    ClipPath = Path.GetFullPath(parse.GetValue(clip) ?? ShippedModels.RequireClip()),
                    CacheDirectory = Path.Combine(runDirectory, "spoken"),
                    NFft = parse.GetValue(nfft),
                    WinLength = parse.GetValue(win),
                    HopLength = parse.GetValue(hop),
                    StemWidth = parse.GetValue(stem),
                    Blocks = AudioClipTrainingOptions.ParseInts(parse.GetValue(blocks)!, "--blocks"),
                    Widths = AudioClipTrainingOptions.ParseInts(parse.GetValue(widths)!, "--widths"),
                    Outputs = AudioClipTrainingOptions.ParseInts(parse.GetValue(outputs)!, "--outputs"),
                    Groups = parse.GetValue(groups),
                    WideVoices = parse.GetValue(wideVoices),
                    AugGainDb = parse.GetValue(augGain),
                    AugFreqWarp = parse.GetValue(augWarp),
                    AugTimeMasks = parse.GetValue(augTimeMasks),
                    AugTimeMaskFrames = parse.GetValue(augTimeFrames),
                    AugFreqMasks = parse.GetValue(augFreqMasks),
                    AugFreqMaskBins = parse.GetValue(augFreqBins),
                };
                trainer = new AudioClipTrainer(options, report: Report);
            }
            using (trainer)
            {
                Report($"audio head: {trainer.Model.Config.Describe()}, {trainer.Model.AudioParameterCount / 1e6:F2}M parameters");
                var session = new TrainingSessionOptions(runDirectory, TrainingConsole.RepoPath(parse.GetValue(output)!),
                    parse.GetValue(checkpointEvery), parse.GetValue(evalEvery), parse.GetValue(evalScenes), parse.GetValue(finalScenes));
                return TrainingConsole.Run(trainer, session, ["loss", "batch_top1", "scale"], ["top1", "top5", "chance", "own_cosine"], parse.GetValue(printEvery));
            }
        });
        return command;
    }
}
