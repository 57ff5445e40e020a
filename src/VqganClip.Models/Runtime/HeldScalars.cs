using TorchSharp;

namespace VqganClip.Models.Runtime;

/// <summary>
/// Scalars that live as long as the process, for the hot loops of the transformer and of the VQGAN's decoder (masked
/// fills, sums).
/// <para>Why: TorchSharp 0.107 turns a .NET number into a <see cref="Scalar"/> (a native c10::Scalar behind a
/// finalizer) implicitly, passes only its handle to the native call, and nothing keeps the temporary alive during that
/// call. A garbage collection in the middle of a long call (a masked fill over [16, 4, 280, 280] attention scores)
/// can run the finalizer, which frees the c10::Scalar while libtorch reads it: `eval` died at its 22nd picture with
/// libtorch's "Expected false to be true" from c10::Scalar::toFloat (an unknown tag: freed memory) in the attention's
/// masked fill, and once more, after that was held, in the GPT's `tokens + pos_emb`: even `a + b` passes an implicit alpha;
/// then in the decoder's residual sum (ResnetBlock), decoding the transformer's samples. A scalar
/// held in a static field is never finalized. (TorchSharp pull requests 1434 and 1496 dispose such temporaries upstream.)</para>
/// </summary>
public static class HeldScalars
{
    /// <summary>-inf: the fill of masked attention scores and filtered logits.</summary>
    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();

    /// <summary>1: the alpha of a tensor sum (`a + b` is `a.add(b, alpha: 1)` with an implicit, unheld 1).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>0, 1 and 2 of the decoder's output mapped from [-1, 1] to [0, 1]: (y + 1) / 2, clamped.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <inheritdoc cref="Zero"/>
    public static readonly Scalar Two = 2.ToScalar();
}
