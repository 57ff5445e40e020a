using System.Text.Json.Nodes;
using VqganClip.Models.StyleGan2;

namespace VqganClip.Training.StyleGan2;

/// <summary>
/// Settings of a clipart StyleGAN2 run (saved in its checkpoints; a resumed run keeps them). The recipe is
/// rosinality's train.py: non-saturating logistic loss, lazy R1 every <see cref="DRegEvery"/> D steps, style mixing
/// with probability 0.9, Adam lr 0.002 with betas (0, 0.99), the regularised network's lr and betas raised to
/// reg_every / (reg_every + 1), and g_ema. What differs, and why:
/// <list type="bullet">
/// <item>64 px, small channel tables (upstream's are 512 wide up to 32 px) and a 4-layer, 128-wide mapping network
/// (upstream 8 × 512): a CPU budget of under an hour and a file of a few MB.</item>
/// <item>R1 γ = 0.05 instead of upstream's 10 (tuned for 256-1024 px FFHQ): StyleGAN2-ADA's heuristic
/// γ = 0.0002 · res² / batch gives 0.05 at 64 px and batch 16 (its CIFAR-10 runs at 32 px used 0.01). R1 penalises
/// D's gradient summed over every pixel, so its size grows with the pixel count.</item>
/// <item>No path-length regularisation (upstream's g_reg_every 4, weight 2): it costs an extra generator forward and
/// a double backward through the modulated convolutions every 4 steps (about a third more G time on this CPU) for a
/// smoother W → image map, which a run this short cannot afford. G's optimiser therefore takes the plain lr and betas
/// (the lazy-regularisation adjustment is for a regularised network).</item>
/// </list>
/// </summary>
public sealed record StyleGan2TrainingOptions
{
    public long Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 16;

    /// <summary>upstream's --lr 0.002.</summary>
    public double LearningRate { get; init; } = 0.002;

    /// <summary>R1 weight γ (upstream's --r1 10, for 256+ px; see the class comment).</summary>
    public double R1Gamma { get; init; } = 0.05;

    /// <summary>upstream's --d_reg_every 16.</summary>
    public int DRegEvery { get; init; } = 16;

    /// <summary>upstream's --mixing 0.9.</summary>
    public double Mixing { get; init; } = 0.9;

    /// <summary>
    /// g_ema's decay per step: upstream's accum = 0.5 ** (32 / (10 * 1000)) (a half-life of 10k images at its batch 32,
    /// written with the constant 32 whatever the batch).
    /// </summary>
    public double EmaDecay { get; init; } = Math.Pow(0.5, 32.0 / (10 * 1000));

    public int Seed { get; init; } = 1;
    public int Size { get; init; } = 64;
    public int StyleDim { get; init; } = 128;
    public int NMlp { get; init; } = 4;

    /// <summary>Generator channels at 4, 8, ..., size px.</summary>
    public IReadOnlyList<int> GChannels { get; init; } = [128, 128, 64, 32, 16];

    /// <summary>Discriminator channels at 4, 8, ..., size px.</summary>
    public IReadOnlyList<int> DChannels { get; init; } = [64, 64, 64, 32, 16];

    public StyleGan2Config GeneratorConfig() => new(Size, StyleDim, NMlp, GChannels);

    /// <summary>upstream's d_reg_ratio = d_reg_every / (d_reg_every + 1) (1 when R1 is off).</summary>
    public double DRegRatio => DRegEvery > 0 ? DRegEvery / (DRegEvery + 1.0) : 1.0;

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Steps must be positive (got {Steps}).");
        if (BatchSize < 2 || BatchSize % Math.Min(BatchSize, StyleGan2Discriminator.StddevGroup) != 0)
            throw new ArgumentException($"The batch must be at least 2 and divisible by the minibatch-stddev group {StyleGan2Discriminator.StddevGroup} (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"The learning rate must be positive (got {LearningRate}).");
        if (R1Gamma < 0) throw new ArgumentException($"R1 γ must not be negative (got {R1Gamma}).");
        if (DRegEvery < 0) throw new ArgumentException($"d_reg_every must not be negative (got {DRegEvery}).");
        if (Mixing is < 0 or > 1) throw new ArgumentException($"The mixing probability must be in [0, 1] (got {Mixing}).");
        if (EmaDecay is < 0 or >= 1) throw new ArgumentException($"The EMA decay must be in [0, 1) (got {EmaDecay}).");
        if (Size != VqganClip.Clipart.SceneLayout.Size) throw new ArgumentException($"The clipart scenes are {VqganClip.Clipart.SceneLayout.Size} px (got size {Size}).");
        GeneratorConfig().Validate();
        if (DChannels.Count != GChannels.Count) throw new ArgumentException($"The discriminator needs {GChannels.Count} channel counts (4..{Size} px), got {DChannels.Count}.");
        // libtorch's CPU input gradient of a convolution with fewer than 16 filters is unreliable (Runtime/NarrowConvolution), and R1 needs it.
        if (DChannels.Any(c => c < 16)) throw new ArgumentException("Every discriminator width must be at least 16.");
    }

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps,
        ["batch_size"] = BatchSize,
        ["lr"] = LearningRate,
        ["r1"] = R1Gamma,
        ["d_reg_every"] = DRegEvery,
        ["mixing"] = Mixing,
        ["ema_decay"] = EmaDecay,
        ["seed"] = Seed,
        ["size"] = Size,
        ["style_dim"] = StyleDim,
        ["n_mlp"] = NMlp,
        ["g_channels"] = new JsonArray(GChannels.Select(c => (JsonNode)c).ToArray()),
        ["d_channels"] = new JsonArray(DChannels.Select(c => (JsonNode)c).ToArray()),
    };

    public static StyleGan2TrainingOptions FromJson(JsonObject json)
    {
        JsonNode Node(string key) => json[key] ?? throw new InvalidDataException($"StyleGAN2 training options: '{key}' is missing.");
        T Get<T>(string key) => Node(key).GetValue<T>();
        int[] Ints(string key) => Node(key).AsArray().Select(n => n!.GetValue<int>()).ToArray();
        return new StyleGan2TrainingOptions
        {
            Steps = Get<long>("steps"),
            BatchSize = Get<int>("batch_size"),
            LearningRate = Get<double>("lr"),
            R1Gamma = Get<double>("r1"),
            DRegEvery = Get<int>("d_reg_every"),
            Mixing = Get<double>("mixing"),
            EmaDecay = Get<double>("ema_decay"),
            Seed = Get<int>("seed"),
            Size = Get<int>("size"),
            StyleDim = Get<int>("style_dim"),
            NMlp = Get<int>("n_mlp"),
            GChannels = Ints("g_channels"),
            DChannels = Ints("d_channels"),
        };
    }

    /// <summary>"128,128,64,32,16" → [128, 128, 64, 32, 16].</summary>
    public static int[] ParseChannels(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
