using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// One step of the sliding window: the grid cell (<see cref="I"/>, <see cref="J"/>) being sampled, its place
/// (<see cref="LocalI"/>, <see cref="LocalJ"/>) inside the window, and the window's top-left corner
/// (<see cref="IStart"/>, <see cref="JStart"/>) in the grid.
/// </summary>
public readonly record struct SlidingWindowStep(int I, int J, int LocalI, int LocalJ, int IStart, int JStart);

/// <summary>
/// The sliding-window sampler of taming's notebook (<c>scripts/taming-transformers.ipynb</c>) and
/// <c>scripts/sample_conditional.py</c> (identical loops), for token grids larger than the window the GPT was
/// trained on, with the window side W a parameter (upstream hard-codes 16, its anchor 8 = W/2 and 256 = W²).
/// For every cell (i, j) in row-major order: the window's local row is i while i &lt;= W/2, W - (H - i) when
/// H - i &lt; W/2, else W/2 (columns likewise); the W×W window of image codes and of conditioning codes at
/// (i - local_i, j - local_j) is read as cat(cond_patch, img_patch)[:, :-1], the logits of its last W² positions are
/// taken as a W×W grid, and the cell (local_i, local_j) gives the distribution for idx[i, j] (temperature, top-k /
/// top-p, multinomial or argmax). Every step reads the codes as they stand, so earlier choices feed later ones.
/// </summary>
public static class SlidingWindowSampler
{
    /// <summary>Upstream's window side: the 16×16 latent of a 256-pixel f16 VQGAN.</summary>
    public const int DefaultWindow = 16;

    /// <summary>The window placement for cell (<paramref name="i"/>, <paramref name="j"/>) of a <paramref name="height"/>×<paramref name="width"/> grid.</summary>
    public static SlidingWindowStep Place(int i, int j, int height, int width, int window = DefaultWindow)
    {
        int localI = Local(i, height, window), localJ = Local(j, width, window);
        return new SlidingWindowStep(i, j, localI, localJ, i - localI, j - localJ);
    }

    /// <summary>Every step of a grid in the order the sampler takes them (row-major).</summary>
    public static IReadOnlyList<SlidingWindowStep> Plan(int height, int width, int window = DefaultWindow)
    {
        CheckGrid(height, width, window);
        var steps = new List<SlidingWindowStep>(height * width);
        for (int i = 0; i < height; i++)
            for (int j = 0; j < width; j++)
                steps.Add(Place(i, j, height, width, window));
        return steps;
    }

    // upstream: local_i = i if i <= 8 else (16 - (H - i) if H - i < 8 else 8), with 8 = W/2 and 16 = W.
    private static int Local(int index, int size, int window)
    {
        int half = window / 2;
        if (index <= half) return index;
        if (size - index < half) return window - (size - index);
        return half;
    }

    /// <summary>
    /// Samples every cell of <paramref name="codes"/> [B, H, W] (the starting codes; a copy is changed and returned)
    /// with the window. <paramref name="conditioning"/> is either codes of the same grid [B, H, W], cropped with the
    /// same window as upstream does (a segmentation map's or the first stage's codes), or a fixed sequence [B, L]
    /// put before every window (class or caption tokens). <paramref name="onStep"/> hears each step after its cell is
    /// written, with the codes so far (valid during the call).
    /// </summary>
    /// <exception cref="ArgumentException">A grid smaller than the window, a window that does not fit block_size, or bad shapes (the message names the values).</exception>
    public static Tensor Sample(Gpt gpt, Tensor codes, Tensor conditioning, SamplingOptions? options = null, int window = DefaultWindow,
        Action<SlidingWindowStep, Tensor>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(gpt);
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(conditioning);
        options ??= new SamplingOptions();
        options.Validate();
        if (options.Guided)
            throw new ArgumentException($"The sliding-window sampler does not apply classifier-free guidance (scale {options.GuidanceScale.ToString(System.Globalization.CultureInfo.InvariantCulture)}); sample a grid the GPT's block holds, or leave the scale at 1.", nameof(options));
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, $"The window side must be positive (got {window}).");
        if (codes.dim() != 3 || codes.dtype != ScalarType.Int64)
            throw new ArgumentException($"The codes must be an int64 grid [batch, height, width], got {codes.dtype} [{string.Join(", ", codes.shape)}].", nameof(codes));
        long batch = codes.shape[0];
        int height = (int)codes.shape[1], width = (int)codes.shape[2];
        CheckGrid(height, width, window);

        bool spatial = conditioning.dim() == 3;
        if (conditioning.dtype != ScalarType.Int64 || conditioning.shape[0] != batch
            || !(spatial ? conditioning.shape[1] == height && conditioning.shape[2] == width : conditioning.dim() == 2 && conditioning.shape[1] >= 1))
            throw new ArgumentException(
                $"The conditioning must be int64 codes of the same grid [{batch}, {height}, {width}] or a token sequence [{batch}, length >= 1], " +
                $"got {conditioning.dtype} [{string.Join(", ", conditioning.shape)}].", nameof(conditioning));
        long windowTokens = (long)window * window;
        long condLength = spatial ? windowTokens : conditioning.shape[1];
        long needed = condLength + windowTokens - 1;
        if (needed > gpt.BlockSize)
            throw new ArgumentException(
                $"A {window}x{window} window after {condLength} conditioning tokens needs {needed} positions, but the GPT's block_size is {gpt.BlockSize}: " +
                "use a smaller window (the one the GPT was trained on).", nameof(window));
        Gpt.CheckTokens(codes, gpt.VocabSize, "the GPT's");
        Gpt.CheckTokens(conditioning, gpt.VocabSize, "the GPT's");

        var device = gpt.Device;
        bool wasTraining = gpt.training;
        gpt.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var idx = codes.to(device, copy: true);
            try
            {
                using var cidx = conditioning.to(device);
                for (int i = 0; i < height; i++)
                {
                    for (int j = 0; j < width; j++)
                    {
                        using var scope = torch.NewDisposeScope();
                        var step = Place(i, j, height, width, window);
                        var patch = idx.narrow(1, step.IStart, window).narrow(2, step.JStart, window).reshape(batch, -1);
                        var cpatch = spatial
                            ? cidx.narrow(1, step.IStart, window).narrow(2, step.JStart, window).reshape(batch, -1)
                            : cidx;
                        var sequence = torch.cat(new[] { cpatch, patch }, 1);
                        var logits = gpt.forward(sequence.narrow(1, 0, sequence.shape[1] - 1));
                        // the last W² positions predict the window's cells in raster order
                        var cell = logits.narrow(1, logits.shape[1] - windowTokens, windowTokens)
                            .reshape(batch, window, window, -1)
                            .select(1, step.LocalI).select(1, step.LocalJ);
                        var next = TokenChooser.Next(cell, options);
                        idx.select(1, i).select(1, j).copy_(next.reshape(batch));
                        onStep?.Invoke(step, idx);
                    }
                }
                return idx;
            }
            catch
            {
                idx.Dispose();
                throw;
            }
        }
        finally
        {
            if (wasTraining) gpt.train();
        }
    }

    private static void CheckGrid(int height, int width, int window)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, $"The window side must be positive (got {window}).");
        if (height < window || width < window)
            throw new ArgumentException(
                $"The token grid {height}x{width} is smaller than the {window}x{window} window: sample it directly, or use a window no larger than the grid.");
    }
}
