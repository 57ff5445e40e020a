using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Clip;

/// <summary>The reference's QuickGELU: <c>x * sigmoid(1.702 * x)</c>, a cheap GELU approximation CLIP was trained with.</summary>
public sealed class QuickGelu : nn.Module<Tensor, Tensor>
{
    public QuickGelu() : base(nameof(QuickGelu)) { }

    public override Tensor forward(Tensor x)
    {
        using var scaled = x * 1.702;
        using var gate = torch.sigmoid(scaled);
        return x * gate;
    }

    /// <summary>The activation a tower was configured with (QuickGELU for every OpenAI model).</summary>
    public static nn.Module<Tensor, Tensor> Create(ClipActivation activation) => activation switch
    {
        ClipActivation.QuickGelu => new QuickGelu(),
        ClipActivation.Gelu => nn.GELU(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown CLIP activation."),
    };
}
