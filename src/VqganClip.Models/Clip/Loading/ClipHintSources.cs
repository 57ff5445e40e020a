namespace VqganClip.Models.Clip;

/// <summary>
/// Gathers what a CLIP state dict cannot say, in order of precedence: the caller's activation override, the
/// caller's <see cref="ClipLoadOptions.Hints"/>, an explicit or neighbouring JSON config (<see cref="ClipSideConfig"/>),
/// and last the activation the kind of file implies (<see cref="ClipActivationDefault"/>). Shared by the loader and
/// the no-data recogniser (<c>inspect</c>), so both decide the same way and give the same reason.
/// </summary>
internal static class ClipHintSources
{
    public static ClipConfigHints Resolve(string? path, string? format, IReadOnlyDictionary<string, string>? metadata,
        IReadOnlyCollection<string> rawKeys, ClipLayout layout, ClipLoadOptions options)
    {
        var fileHints = options.ConfigPath is not null ? ClipSideConfig.Read(options.ConfigPath)
            : options.SearchSideConfig && path is not null ? ClipSideConfig.FindNextTo(path)
            : null;
        var callerHints = options.Hints is null ? null : options.Hints with
        {
            Source = options.Hints.Source ?? "options",
            ActivationSource = options.Hints.ActivationSource ?? "load options",
        };
        var overrideHints = options.Activation is { } activation
            ? new ClipConfigHints { VisionActivation = activation, TextActivation = activation, ActivationSource = "activation override" }
            : null;
        var kindDefault = ClipActivationDefault.For(format, metadata, rawKeys, layout);
        return ClipConfigHints.Merge(overrideHints, ClipConfigHints.Merge(callerHints, ClipConfigHints.Merge(fileHints, kindDefault)));
    }
}
