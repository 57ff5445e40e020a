namespace VqganClip.Models.Vqgan;

/// <summary>
/// An estimate, from the architecture alone, of the memory one guidance step through a VQGAN decoder needs at a
/// picture size: the float32 activations the forward pass keeps for backward, plus the gradients backward holds at
/// its peak. It lets a caller refuse a size before allocating anything (a picture too large for memory otherwise
/// ends the process in the native allocator, without a .NET exception). It errs on the high side; the parts:
/// <list type="bullet">
/// <item>each ResnetBlock keeps about 7 tensors of its output (norm, swish, conv, twice, and the sum);</item>
/// <item>each attention block keeps about 7 tensors of its input (norm, q, k, v, attended, projection, sum) and 3
/// tokens x tokens matrices (scores, scaled, softmax): at the latent's side this term grows with the fourth power of
/// the picture's side and is the largest for big pictures;</item>
/// <item>each upsampling keeps its interpolated input and its convolution's output at the finer level;</item>
/// <item>backward holds the gradients of about 3 of the largest tensors at once.</item>
/// </list>
/// </summary>
public static class DecoderMemory
{
    private const double BytesPerValue = 4;   // float32
    private const double TensorsPerResnetBlock = 7, TensorsPerAttention = 7, AttentionMatrices = 3, GradientsAtPeak = 3;

    /// <summary>Bytes of one step (forward and backward, batch 1) through the decoder of <paramref name="config"/> for a width x height picture.</summary>
    public static double StepBytes(VqganDdConfig config, long width, long height)
    {
        ArgumentNullException.ThrowIfNull(config);
        int levels = config.NumResolutions;
        var attention = config.DecoderAttentionLevels();
        double values = 0, largest = 0;
        void Keep(double count, double size) { values += count * size; largest = Math.Max(largest, size); }

        double Pixels(int level) => Math.Ceiling(width / (double)(1 << level)) * Math.Ceiling(height / (double)(1 << level));
        double Channels(int level) => (double)config.Ch * config.ChMult[level];
        void AttentionAt(int level)
        {
            double tokens = Pixels(level);
            Keep(TensorsPerAttention, Channels(level) * tokens);
            Keep(AttentionMatrices, tokens * tokens);
        }

        int top = levels - 1;
        Keep(1, Channels(top) * Pixels(top));                       // conv_in
        Keep(2 * TensorsPerResnetBlock, Channels(top) * Pixels(top)); // mid: two blocks and an attention
        AttentionAt(top);
        for (int level = top; level >= 0; level--)
        {
            for (int i = 0; i < config.NumResBlocks + 1; i++)
            {
                Keep(TensorsPerResnetBlock, Channels(level) * Pixels(level));
                if (attention[level]) AttentionAt(level);
            }
            if (level > 0) Keep(2, Channels(level) * Pixels(level - 1));   // interpolated, then convolved
        }
        Keep(2, Channels(0) * Pixels(0));                            // norm_out, swish
        Keep(1, config.OutCh * Pixels(0));                           // conv_out
        return (values + GradientsAtPeak * largest) * BytesPerValue;
    }
}
