using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.AudioClip;

/// <summary>
/// AudioCLIP's input conditioning before the learned Fourier basis (utils/transforms.py): <c>scale</c>, which maps
/// the int16 range the training pipeline feeds (<c>esc50.py</c>: librosa samples × 32768) to [−1, 1], and
/// <c>frame_signal</c>, which cuts overlapping windowed frames.
/// </summary>
public static class SignalFraming
{
    /// <summary>upstream <c>scale(x, -32768.0, 32767, -1.0, 1.0)</c>, with its operations in its order (float32 rounding alike).</summary>
    public static Tensor ScaleInt16Range(Tensor samples)
    {
        const double oldMin = -32768.0, oldMax = 32767.0, newMin = -1.0, newMax = 1.0;
        return samples.sub(oldMin).mul(newMax - newMin).div(oldMax - oldMin).add(newMin);
    }

    /// <summary>Frames upstream's <c>frame_signal</c> cuts from a signal of <paramref name="signalLength"/> samples.</summary>
    public static int FrameCount(long signalLength, int frameLength, int hopLength) =>
        signalLength <= frameLength ? 1 : 1 + (int)Math.Ceiling((double)(signalLength - frameLength) / hopLength);

    /// <summary>
    /// upstream <c>frame_signal</c>: [N, L] → [N, frames, frameLength] × window. The signal is zero-padded to
    /// (frames − 1)·hop + frameLength samples, half the padding (rounded down) on the left and the rest on the right.
    /// </summary>
    public static Tensor Frame(Tensor signal, int frameLength, int hopLength, Tensor window)
    {
        if (window.shape[0] != frameLength)
            throw new ArgumentException($"Wrong window length: expected {window.shape[0]}, got {frameLength}.", nameof(window));
        if (signal.dim() != 2)
            throw new ArgumentException($"frame_signal expects [N, samples], got [{string.Join(",", signal.shape)}].", nameof(signal));
        using var scope = NewDisposeScope();
        long length = signal.shape[^1];
        int frames = FrameCount(length, frameLength, hopLength);
        long padLength = (long)(frames - 1) * hopLength + frameLength;
        var padded = signal;
        if (padLength > length)
        {
            long extra = padLength - length;
            padded = nn.functional.pad(signal, [extra / 2, extra - extra / 2]);
        }
        // unfold takes the same windows as upstream's gathered index grid (start k·hop, length frameLength).
        var cut = padded.unfold(-1, frameLength, hopLength);
        return (cut * window).MoveToOuterDisposeScope();
    }
}
