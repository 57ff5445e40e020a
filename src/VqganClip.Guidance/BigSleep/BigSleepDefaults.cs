namespace VqganClip.Guidance.BigSleep;

/// <summary>
/// Big Sleep's numbers (lucidrains/big-sleep 0.9.1, <c>big_sleep/big_sleep.py</c> and <c>big_sleep/cli.py</c>) in one place.
/// Where the Python class and the command line disagree, both are given (see README.md in this folder for the lines).
/// </summary>
public static class BigSleepDefaults
{
    /// <summary>Adam learning rate (<c>Imagine(lr=.07)</c>, cli <c>lr=.07</c>); Adam's other settings are PyTorch's defaults.</summary>
    public const double LearningRate = 0.07;

    /// <summary>EMA decay of the <c>Imagine</c>/<c>BigSleep</c> classes (<c>ema_decay=0.99</c>).</summary>
    public const double EmaDecay = 0.99;

    /// <summary>EMA decay of the command line (<c>cli.train(ema_decay=0.5)</c>): what a <c>dream "..."</c> run uses.</summary>
    public const double CliEmaDecay = 0.5;

    /// <summary>Cutouts per step (<c>num_cutouts=128</c>).</summary>
    public const int CutoutCount = 128;

    /// <summary>Side every cutout is resized to (hard-coded <c>(224, 224)</c>, ViT-B/32's and ViT-L/14's input).</summary>
    public const int CutSize = 224;

    /// <summary>Cutout side as a fraction of the picture: <c>clip(N(0.8, 0.3), 0.5, 0.95)</c>.</summary>
    public const double CutoutFractionMean = 0.8, CutoutFractionStd = 0.3, CutoutFractionMin = 0.5, CutoutFractionMax = 0.95;

    /// <summary><c>rand_cutout(center_focus=2)</c>: with centre bias, offsets ~ N(max_offset/2, (max_offset/2)/2).</summary>
    public const double CenterFocus = 2;

    /// <summary><c>loss_coef=100</c>: each prompt adds −100·cos (a "min" prompt, from <c>text_min</c>, +100·cos).</summary>
    public const double LossCoefficient = 100;

    /// <summary>Separator of several prompts in one text (<c>text.split("|")</c>); each is its own −100·cos term.</summary>
    public const char PromptSeparator = '|';

    /// <summary><c>normu ~ N(0, 1)</c>, [num_latents, z_dim].</summary>
    public const double LatentMean = 0, LatentStd = 1;

    /// <summary><c>cls ~ N(−3.9, 0.3)</c>, [num_latents, num_classes]; sigmoid(−3.9) ≈ 0.02.</summary>
    public const double ClassLogitMean = -3.9, ClassLogitStd = 0.3;

    /// <summary><c>class_temperature=2.</c>, the temperature of <c>differentiable_topk</c> when <c>max_classes</c> is set.</summary>
    public const double ClassTemperature = 2;

    /// <summary>The <c>thresh_lat</c> buffer (<c>torch.tensor(1)</c>): lat_loss has 4·max(mean(lat²), 1).</summary>
    public const double LatentThreshold = 1;

    /// <summary>Weight of the max(mean(lat²), thresh) term of lat_loss.</summary>
    public const double LatentSquareWeight = 4;

    /// <summary>cls_loss = ((50 · smallest C−1 class weights)²).mean().</summary>
    public const double ClassLossScale = 50;

    /// <summary>Truncation passed to BigGAN (fixed; <c>self.biggan(*self.latents(), 1)</c>).</summary>
    public const double Truncation = 1;

    /// <summary><c>epochs=20</c> × <c>iterations=1050</c> steps; a picture every <c>save_every=50</c>.</summary>
    public const int Epochs = 20, Iterations = 1050, SaveEvery = 50;

    /// <summary>Seed of the command line (<c>seed=0</c>; the class default is none).</summary>
    public const int Seed = 0;

    /// <summary>Picture side of the command line (<c>image_size=512</c>; one of 128, 256, 512).</summary>
    public const int ImageSize = 512;
}
