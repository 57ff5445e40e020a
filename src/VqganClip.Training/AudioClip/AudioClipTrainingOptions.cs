using System.Globalization;
using System.Text.Json.Nodes;
using VqganClip.Models.AudioClip;

namespace VqganClip.Training.AudioClip;

/// <summary>
/// Settings of a clipart audio-head run (saved in its checkpoints; a resumed run keeps them). The head is upstream's
/// ESResNeXt-fbsp, small: a 512-point learnable Fourier basis on 44.1 kHz audio (11.6 ms windows, 10 ms hop: speech
/// needs no finer bins, and the spectrogram is a quarter of AudioCLIP's 2048-point one), one bottleneck per stage,
/// narrow stages, and the joint space of the CLIP it is trained against (128 for the shipped clipart CLIP).
/// <para><see cref="FrozenFbspSteps"/>: for that many steps the Fourier basis stays at its initialisation, so each
/// clip's decibel spectrogram is computed once and cached and a step runs the ResNeXt only; after them the basis
/// learns too (upstream trains it end to end), at <see cref="FbspLearningRate"/>, from the raw audio.</para>
/// </summary>
public sealed record AudioClipTrainingOptions
{
    public long Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public double FbspLearningRate { get; init; } = 1e-4;
    public long WarmupSteps { get; init; } = 100;
    public long FrozenFbspSteps { get; init; } = long.MaxValue;
    public int Seed { get; init; } = 1;
    /// <summary>
    /// Draw each batch from this many neighbours in length order, or from the whole pool when 0: a batch is padded to its
    /// longest clip, and a prompt is embedded unpadded, so little padding keeps training near inference.
    /// </summary>
    public int LengthWindow { get; init; } = 128;
    /// <summary>The last steps run with batch-norm statistics measured afresh and frozen (AudioClipTrainer.CalibrateBatchNorm); 0: live statistics throughout, as upstream.</summary>
    public long FrozenBatchNormSteps { get; init; }
    /// <summary>Spoken training captions (each one caption in one training voice, speed and pitch).</summary>
    public int TrainingClips { get; init; } = 3000;
    public string ClipPath { get; init; } = "data/clipart-clip.safetensors";
    /// <summary>Speak the training captions in <see cref="SpeechVoices.WideTraining"/> (77 voices, wider speeds and pitches) instead of the 20 of <see cref="SpeechVoices.Training"/>.</summary>
    public bool WideVoices { get; init; }
    /// <summary>Per-step augmentation of the cached decibel inputs (<see cref="DecibelAugmentation"/>); all 0: none (the old behaviour).</summary>
    public double AugGainDb { get; init; }
    public double AugFreqWarp { get; init; }
    public int AugTimeMasks { get; init; }
    public int AugTimeMaskFrames { get; init; }
    public int AugFreqMasks { get; init; }
    public int AugFreqMaskBins { get; init; }
    /// <summary>Where the spoken captions are cached (under the run folder).</summary>
    public string CacheDirectory { get; init; } = "runs/audioclip/spoken";

    public int NFft { get; init; } = 512;
    public int WinLength { get; init; } = 512;
    public int HopLength { get; init; } = 441;
    public int StemWidth { get; init; } = 16;
    public int[] Blocks { get; init; } = [1, 1, 1, 1];
    public int[] Widths { get; init; } = [16, 32, 64, 128];
    public int[] Outputs { get; init; } = [32, 64, 128, 256];
    public int Groups { get; init; } = 4;

    /// <summary>The head's shape for a CLIP of embedding width <paramref name="embedDim"/>.</summary>
    public AudioHeadConfig HeadConfig(int embedDim) => new AudioHeadConfig
    {
        NFft = NFft,
        HopLength = HopLength,
        WinLength = WinLength,
        StemWidth = StemWidth,
        Blocks = Blocks,
        Widths = Widths,
        Outputs = Outputs,
        Groups = Groups,
        EmbedDim = embedDim,
    }.Validate();

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Steps must be positive (got {Steps}).");
        if (BatchSize < 2) throw new ArgumentException($"The batch needs at least 2 clips for a contrastive loss (got {BatchSize}).");
        if (TrainingClips < BatchSize) throw new ArgumentException($"--clips ({TrainingClips}) must be at least the batch ({BatchSize}).");
        if (!(LearningRate > 0) || !(FbspLearningRate > 0)) throw new ArgumentException($"Learning rates must be positive (got {LearningRate}, {FbspLearningRate}).");
        if (WarmupSteps < 0 || FrozenFbspSteps < 0 || FrozenBatchNormSteps < 0) throw new ArgumentException("Warm-up and frozen-FBSP steps must not be negative.");
        if (AugGainDb < 0 || AugFreqWarp < 0 || AugFreqWarp >= 0.5 || AugTimeMasks < 0 || AugTimeMaskFrames < 0 || AugFreqMasks < 0 || AugFreqMaskBins < 0)
            throw new ArgumentException("Augmentation settings must not be negative (and the frequency warp under 0.5).");
        HeadConfig(128);
    }

    private static string Ints(int[] v) => string.Join(",", v.Select(i => i.ToString(CultureInfo.InvariantCulture)));

    public static int[] ParseInts(string text, string what)
    {
        try { return text.Split(',', StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); }
        catch (FormatException) { throw new ArgumentException($"{what}: expected four comma-separated integers such as 1,1,1,1 (got '{text}')."); }
    }

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps,
        ["batch_size"] = BatchSize,
        ["lr"] = LearningRate,
        ["fbsp_lr"] = FbspLearningRate,
        ["warmup_steps"] = WarmupSteps,
        ["frozen_fbsp_steps"] = FrozenFbspSteps,
        ["seed"] = Seed,
        ["length_window"] = LengthWindow,
        ["frozen_bn_steps"] = FrozenBatchNormSteps,
        ["training_clips"] = TrainingClips,
        ["clip"] = ClipPath,
        ["wide_voices"] = WideVoices,
        ["aug_gain_db"] = AugGainDb,
        ["aug_freq_warp"] = AugFreqWarp,
        ["aug_time_masks"] = AugTimeMasks,
        ["aug_time_mask_frames"] = AugTimeMaskFrames,
        ["aug_freq_masks"] = AugFreqMasks,
        ["aug_freq_mask_bins"] = AugFreqMaskBins,
        ["cache"] = CacheDirectory,
        ["n_fft"] = NFft,
        ["win_length"] = WinLength,
        ["hop_length"] = HopLength,
        ["stem"] = StemWidth,
        ["blocks"] = Ints(Blocks),
        ["widths"] = Ints(Widths),
        ["outputs"] = Ints(Outputs),
        ["groups"] = Groups,
    };

    public static AudioClipTrainingOptions FromJson(JsonObject json)
    {
        T Get<T>(string key) => (json[key] ?? throw new InvalidDataException($"audioclip training options: '{key}' is missing.")).GetValue<T>();
        return new AudioClipTrainingOptions
        {
            Steps = Get<long>("steps"),
            BatchSize = Get<int>("batch_size"),
            LearningRate = Get<double>("lr"),
            FbspLearningRate = Get<double>("fbsp_lr"),
            WarmupSteps = Get<long>("warmup_steps"),
            FrozenFbspSteps = Get<long>("frozen_fbsp_steps"),
            Seed = Get<int>("seed"),
            LengthWindow = Get<int>("length_window"),
            FrozenBatchNormSteps = Get<long>("frozen_bn_steps"),
            TrainingClips = Get<int>("training_clips"),
            ClipPath = Get<string>("clip"),
            // absent from checkpoints written before the options existed: their defaults (no augmentation, 20 voices)
            WideVoices = json["wide_voices"]?.GetValue<bool>() ?? false,
            AugGainDb = json["aug_gain_db"]?.GetValue<double>() ?? 0,
            AugFreqWarp = json["aug_freq_warp"]?.GetValue<double>() ?? 0,
            AugTimeMasks = json["aug_time_masks"]?.GetValue<int>() ?? 0,
            AugTimeMaskFrames = json["aug_time_mask_frames"]?.GetValue<int>() ?? 0,
            AugFreqMasks = json["aug_freq_masks"]?.GetValue<int>() ?? 0,
            AugFreqMaskBins = json["aug_freq_mask_bins"]?.GetValue<int>() ?? 0,
            CacheDirectory = Get<string>("cache"),
            NFft = Get<int>("n_fft"),
            WinLength = Get<int>("win_length"),
            HopLength = Get<int>("hop_length"),
            StemWidth = Get<int>("stem"),
            Blocks = ParseInts(Get<string>("blocks"), "blocks"),
            Widths = ParseInts(Get<string>("widths"), "widths"),
            Outputs = ParseInts(Get<string>("outputs"), "outputs"),
            Groups = Get<int>("groups"),
        };
    }
}
