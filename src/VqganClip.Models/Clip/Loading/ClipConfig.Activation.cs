namespace VqganClip.Models.Clip;

public sealed partial record ClipConfig
{
    /// <summary>Why the towers use their activation, e.g. "open_clip_config.json quick_gelu=false" or
    /// "OpenAI checkpoint (TorchScript archive)"; null for a config built by hand. Not part of the architecture.</summary>
    public string? ActivationSource { get; init; }

    /// <summary>True when the activation is only the default for the kind of file (no config or caller said it).</summary>
    public bool ActivationIsDefault { get; init; }

    /// <summary>"gelu (open_clip_config.json quick_gelu=false)", or "vision gelu, text quick-gelu (...)".</summary>
    public string ActivationSummary
    {
        get
        {
            var which = VisionActivation == TextActivation
                ? ClipActivationNames.Of(VisionActivation)
                : $"vision {ClipActivationNames.Of(VisionActivation)}, text {ClipActivationNames.Of(TextActivation)}";
            return ActivationSource is null ? which : $"{which} ({ActivationSource})";
        }
    }
}

/// <summary>The activation names users type and read: <c>gelu</c> and <c>quick-gelu</c>.</summary>
public static class ClipActivationNames
{
    public static IReadOnlyList<string> All { get; } = ["gelu", "quick-gelu"];

    public static string Of(ClipActivation activation) => activation switch
    {
        ClipActivation.Gelu => "gelu",
        ClipActivation.QuickGelu => "quick-gelu",
        _ => activation.ToString(),
    };

    /// <summary>Parses "gelu" or "quick-gelu" (also open_clip's / Hugging Face's spelling "quick_gelu", any case).</summary>
    public static bool TryParse(string? name, out ClipActivation activation)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "gelu":
                activation = ClipActivation.Gelu;
                return true;
            case "quick-gelu" or "quick_gelu" or "quickgelu":
                activation = ClipActivation.QuickGelu;
                return true;
            default:
                activation = default;
                return false;
        }
    }

    /// <summary>Like <see cref="TryParse"/>, throwing <see cref="ArgumentException"/> naming the value and the choices.</summary>
    public static ClipActivation Parse(string name) => TryParse(name, out var activation)
        ? activation
        : throw new ArgumentException($"activation override '{name}' is not one of: {string.Join(", ", All)}");
}
