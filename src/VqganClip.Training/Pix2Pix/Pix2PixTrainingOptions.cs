using System.Text.Json.Nodes;
using VqganClip.Models.Pix2Pix;

namespace VqganClip.Training.Pix2Pix;

/// <summary>
/// Settings of a clipart pix2pix run (saved in its checkpoints; a resumed run keeps them). Objective and optimiser are
/// upstream's defaults (pix2pix_model.py: vanilla GAN loss, λ_L1 100, Adam 2e-4 (0.5, 0.999), batch norm, dropout);
/// the networks are small (64-px scenes: U-Net num_downs 6 = 1×1 at the bottom, ngf 12 (4.1 MB); PatchGAN ndf 16, n_layers 3)
/// and the batch larger than upstream's 1, so a CPU run of minutes sees enough pairs. No learning-rate decay: upstream
/// decays linearly over its second 100 epochs, a run here is far shorter.
/// </summary>
public sealed record Pix2PixTrainingOptions
{
    public long Steps { get; init; } = 600;
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 2e-4;
    public double Beta1 { get; init; } = 0.5;
    public double Beta2 { get; init; } = 0.999;
    public double LambdaL1 { get; init; } = 100.0;
    public GanMode GanMode { get; init; } = GanMode.Vanilla;
    public int Seed { get; init; } = 1;
    public int NumDowns { get; init; } = 6;
    public int Ngf { get; init; } = 12;
    public int Ndf { get; init; } = 16;
    public int NLayersD { get; init; } = 3;
    public bool UseDropout { get; init; } = true;

    public UnetConfig GeneratorConfig() => new(3, 3, NumDowns, Ngf, Pix2PixNorm.Batch, UseDropout);

    public PatchGanConfig DiscriminatorConfig() => new(6, Ndf, NLayersD, Pix2PixNorm.Batch, UseSigmoid: GanMode == GanMode.Sigmoid);

    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Steps must be positive (got {Steps}).");
        if (BatchSize < 2) throw new ArgumentException($"BatchSize must be at least 2 (batch norm at the 1×1 bottleneck needs more than one value) (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"The learning rate must be positive (got {LearningRate}).");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new ArgumentException($"Adam betas must be in [0, 1) (got {Beta1}, {Beta2}).");
        if (LambdaL1 < 0) throw new ArgumentException($"λ_L1 must not be negative (got {LambdaL1}).");
        var g = GeneratorConfig();
        g.Validate();
        if (64 % g.SideMultiple != 0) throw new ArgumentException($"num_downs {NumDowns} needs sides that are multiples of {g.SideMultiple}; the clipart scenes are 64 px (num_downs at most 6).");
        DiscriminatorConfig().Validate();
    }

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps,
        ["batch_size"] = BatchSize,
        ["lr"] = LearningRate,
        ["beta1"] = Beta1,
        ["beta2"] = Beta2,
        ["lambda_l1"] = LambdaL1,
        ["gan_mode"] = GanMode.Name(),
        ["seed"] = Seed,
        ["num_downs"] = NumDowns,
        ["ngf"] = Ngf,
        ["ndf"] = Ndf,
        ["n_layers_d"] = NLayersD,
        ["use_dropout"] = UseDropout,
    };

    public static Pix2PixTrainingOptions FromJson(JsonObject json)
    {
        T Get<T>(string key) => (json[key] ?? throw new InvalidDataException($"pix2pix training options: '{key}' is missing.")).GetValue<T>();
        return new Pix2PixTrainingOptions
        {
            Steps = Get<long>("steps"),
            BatchSize = Get<int>("batch_size"),
            LearningRate = Get<double>("lr"),
            Beta1 = Get<double>("beta1"),
            Beta2 = Get<double>("beta2"),
            LambdaL1 = Get<double>("lambda_l1"),
            GanMode = GanLoss.Parse(Get<string>("gan_mode")),
            Seed = Get<int>("seed"),
            NumDowns = Get<int>("num_downs"),
            Ngf = Get<int>("ngf"),
            Ndf = Get<int>("ndf"),
            NLayersD = Get<int>("n_layers_d"),
            UseDropout = Get<bool>("use_dropout"),
        };
    }
}
