using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>Called after every sampled token: the step (0-based) and the tokens so far [B, prefix + step + 1], a view valid during the call.</summary>
public delegate void SamplingStepCallback(int step, Tensor tokens);

/// <summary>
/// Autoregressive sampling from a <see cref="Gpt"/>, batched, in taming's two ways, which choose the same tokens:
/// <list type="bullet">
/// <item>with the key/value cache: mingpt's <c>sample_with_past</c> (the conditioning and prefix are read once, then
///   one token per step);</item>
/// <item>without it: <c>Net2NetTransformer.sample</c> (the whole sequence is read again at every step).</item>
/// </list>
/// Both apply <see cref="TokenChooser"/> to the last logits of each step and draw once per step from the same
/// generator, so a seeded run gives the same tokens either way (up to float rounding of the logits). Upstream's
/// cached sampler only filters when top_k is given; here top_p applies on its own too.
/// </summary>
public static class GptSampler
{
    /// <summary>
    /// Samples <paramref name="steps"/> tokens after <paramref name="conditioning"/> [B, Lc] (at least one token: a
    /// class id, an SOS token, conditioning codes) and an optional <paramref name="prefix"/> [B, Lp] of image tokens
    /// (half-completion). Returns [B, Lp + steps] int64: the prefix followed by the new tokens, conditioning cut off
    /// (as upstream's <c>sample</c>). The GPT is put in eval mode for the call and restored afterwards.
    /// With <see cref="SamplingOptions.Guided"/>, <paramref name="unconditional"/> [B, Lc] is the sequence the guidance
    /// contrasts with (read as a second half of the batch, followed by the same prefix and tokens).
    /// </summary>
    /// <exception cref="ArgumentException">Bad shapes, token ids outside the vocabulary, or more positions than block_size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Bad temperature, top-k or top-p (the message names the value).</exception>
    public static Tensor Sample(Gpt gpt, Tensor conditioning, int steps, SamplingOptions? options = null, Tensor? prefix = null,
        bool useCache = true, SamplingStepCallback? onStep = null, Tensor? unconditional = null)
    {
        ArgumentNullException.ThrowIfNull(gpt);
        ArgumentNullException.ThrowIfNull(conditioning);
        options ??= new SamplingOptions();
        options.Validate();
        CheckSequence(conditioning, "conditioning", null);
        if (options.Guided)
        {
            if (unconditional is null)
                throw new ArgumentException($"Guidance scale {options.GuidanceScale.ToString(System.Globalization.CultureInfo.InvariantCulture)} needs the unconditional conditioning to contrast with (none was given).", nameof(unconditional));
            CheckSequence(unconditional, "unconditional conditioning", conditioning.shape[0]);
            if (unconditional.shape[1] != conditioning.shape[1])
                throw new ArgumentException($"The unconditional conditioning has {unconditional.shape[1]} tokens, the conditioning {conditioning.shape[1]}; guidance reads both at the same positions.", nameof(unconditional));
            Gpt.CheckTokens(unconditional, gpt.VocabSize, "the GPT's");
        }
        long batch = conditioning.shape[0], condLength = conditioning.shape[1];
        if (condLength < 1)
            throw new ArgumentException("Sampling needs at least one conditioning token (a class id, the SOS token of an unconditional model, conditioning codes).", nameof(conditioning));
        if (prefix is not null) CheckSequence(prefix, "prefix", batch);
        long prefixLength = prefix?.shape[1] ?? 0;
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must not be negative (got {steps}).");
        CheckFits(gpt.Config, condLength, prefixLength, steps);
        Gpt.CheckTokens(conditioning, gpt.VocabSize, "the GPT's");
        if (prefix is not null) Gpt.CheckTokens(prefix, gpt.VocabSize, "the GPT's");

        var device = gpt.Device;
        bool wasTraining = gpt.training;
        gpt.eval();
        try
        {
            using var noGrad = torch.no_grad();
            // guided: the unconditional sequence is the second half of the batch
            using var cond = options.Guided ? torch.cat(new[] { conditioning, unconditional! }, 0).to(device) : conditioning.to(device);
            var output = torch.empty(new[] { batch, prefixLength + steps }, ScalarType.Int64, device);
            try
            {
                if (prefix is not null)
                {
                    using var slot = output.narrow(1, 0, prefixLength);
                    slot.copy_(prefix);
                }
                if (useCache) SampleWithPast(gpt, cond, output, prefixLength, steps, options, onStep);
                else SampleWithoutCache(gpt, cond, output, prefixLength, steps, options, onStep);
                return output;
            }
            catch
            {
                output.Dispose();
                throw;
            }
        }
        finally
        {
            if (wasTraining) gpt.train();
        }
    }

    /// <summary>
    /// Teacher forcing: the distribution of every step [B, T, V] (softmax of the filtered, tempered logits) when the
    /// GPT reads <paramref name="conditioning"/> [B, Lc] followed by <paramref name="tokens"/> [B, T]. Row t is what
    /// step t of <see cref="Sample"/> draws from when tokens[:, :t] were chosen before it, so a recorded sampled run
    /// can be checked without replaying the random draws.
    /// </summary>
    public static Tensor StepProbabilities(Gpt gpt, Tensor conditioning, Tensor tokens, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(gpt);
        ArgumentNullException.ThrowIfNull(options);
        CheckSequence(conditioning, "conditioning", null);
        CheckSequence(tokens, "tokens", conditioning.shape[0]);
        long condLength = conditioning.shape[1], t = tokens.shape[1];
        if (condLength < 1) throw new ArgumentException("At least one conditioning token is needed.", nameof(conditioning));
        CheckFits(gpt.Config, condLength, 0, (int)t);
        bool wasTraining = gpt.training;
        gpt.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var device = gpt.Device;
            var sequence = torch.cat(new[] { conditioning.to(device), tokens.to(device) }, 1);
            var logits = gpt.forward(sequence.narrow(1, 0, condLength + t - 1));
            // position Lc - 1 + s predicts token s
            var stepLogits = logits.narrow(1, condLength - 1, t);
            return TokenChooser.Probabilities(stepLogits, options).MoveToOuterDisposeScope();
        }
        finally
        {
            if (wasTraining) gpt.train();
        }
    }

    /// <summary>mingpt's <c>sample_with_past</c>: the cache is filled with conditioning + prefix, then grows one token per step.</summary>
    private static void SampleWithPast(Gpt gpt, Tensor cond, Tensor output, long prefixLength, int steps, SamplingOptions options,
        SamplingStepCallback? onStep)
    {
        if (steps == 0) return;
        int capacity = (int)(cond.shape[1] + prefixLength + steps - 1); // the last token is never read back
        using var cache = gpt.CreateCache(cond.shape[0], capacity);
        for (int k = 0; k < steps; k++)
        {
            using var scope = torch.NewDisposeScope();
            // first step: everything known so far; later steps: the token chosen last
            var input = k == 0
                ? torch.cat(new[] { cond, Twice(output.narrow(1, 0, prefixLength), options) }, 1)
                : Twice(output.narrow(1, prefixLength + k - 1, 1), options);
            var logits = gpt.ForwardWithPast(input, cache);
            var next = TokenChooser.Next(Guide(logits.select(1, -1), options), options);
            output.narrow(1, prefixLength + k, 1).copy_(next);
            onStep?.Invoke(k, output.narrow(1, 0, prefixLength + k + 1));
        }
    }

    /// <summary><c>Net2NetTransformer.sample</c>: the GPT reads cat(c, tokens so far) again at every step.</summary>
    private static void SampleWithoutCache(Gpt gpt, Tensor cond, Tensor output, long prefixLength, int steps, SamplingOptions options,
        SamplingStepCallback? onStep)
    {
        for (int k = 0; k < steps; k++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.cat(new[] { cond, Twice(output.narrow(1, 0, prefixLength + k), options) }, 1);
            var logits = gpt.forward(x);
            var next = TokenChooser.Next(Guide(logits.select(1, -1), options), options);
            output.narrow(1, prefixLength + k, 1).copy_(next);
            onStep?.Invoke(k, output.narrow(1, 0, prefixLength + k + 1));
        }
    }

    /// <summary>Guided: the tokens chosen so far, once for the conditional half of the batch and once for the unconditional.</summary>
    private static Tensor Twice(Tensor tokens, SamplingOptions options) =>
        options.Guided ? torch.cat(new[] { tokens, tokens }, 0) : tokens;

    /// <summary>Guided: last logits [2B, V] (conditional half first) → l_u + s · (l_c − l_u) [B, V]; otherwise unchanged.</summary>
    private static Tensor Guide(Tensor last, SamplingOptions options)
    {
        if (!options.Guided) return last;
        long batch = last.shape[0] / 2;
        var conditional = last.narrow(0, 0, batch);
        var unconditional = last.narrow(0, batch, batch);
        return unconditional + options.GuidanceScale * (conditional - unconditional);
    }

    private static void CheckSequence(Tensor tokens, string what, long? batch)
    {
        ArgumentNullException.ThrowIfNull(tokens, what);
        if (tokens.dim() != 2)
            throw new ArgumentException($"The {what} must be token ids [batch, length], got [{string.Join(", ", tokens.shape)}].", what);
        if (tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"The {what} token ids must be int64, got {tokens.dtype}.", what);
        if (batch is { } b && tokens.shape[0] != b)
            throw new ArgumentException($"The {what} has {tokens.shape[0]} rows but the conditioning {b}.", what);
    }

    /// <summary>The GPT must read conditioning + prefix + steps - 1 positions (the last token is never fed back).</summary>
    internal static void CheckFits(GptConfig config, long condLength, long prefixLength, int steps)
    {
        long needed = condLength + prefixLength + Math.Max(steps, 1) - 1;
        if (needed > config.BlockSize)
            throw new ArgumentException(
                $"{condLength} conditioning tokens, {prefixLength} prefix tokens and {steps} sampled tokens need {needed} positions, " +
                $"but the GPT's block_size is {config.BlockSize}: the token grid is larger than the GPT's window " +
                "(sample larger grids with the sliding window).");
    }
}
