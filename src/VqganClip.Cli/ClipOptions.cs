using System.CommandLine;
using VqganClip.Models.Clip;

namespace VqganClip.Cli;

/// <summary>
/// The options that say what a CLIP file cannot: <c>--clip-config FILE</c> (a config.json / open_clip_config.json
/// that is not beside the checkpoint) and <c>--activation gelu|quick-gelu</c>. One place for every command that
/// loads a CLIP: <c>var clipOptions = ClipOptions.AddTo(command);</c>, then <c>clipOptions.Read(parse)</c> in its action.
/// </summary>
public sealed class ClipOptions
{
    private ClipOptions(Option<FileInfo?> config, Option<string?> activation)
    {
        Config = config;
        Activation = activation;
    }

    public Option<FileInfo?> Config { get; }

    public Option<string?> Activation { get; }

    /// <summary>Adds both options to <paramref name="command"/> and returns them.</summary>
    public static ClipOptions AddTo(Command command)
    {
        var options = new ClipOptions(
            new Option<FileInfo?>("--clip-config")
            {
                Description = "The CLIP's JSON config when it is not beside the file: open_clip_config.json, a Hugging Face config.json, ...",
            },
            new Option<string?>("--activation")
            {
                Description = "The CLIP's MLP activation, overriding configs: gelu (open_clip's default) or quick-gelu (OpenAI's, open_clip's -quickgelu models)",
            });
        command.Add(options.Config);
        command.Add(options.Activation);
        return options;
    }

    /// <summary>The load options the user gave; a bad --activation is an <see cref="ArgumentException"/> naming it and the choices.</summary>
    public ClipLoadOptions Read(ParseResult parse) => ToLoadOptions(parse.GetValue(Config)?.FullName, parse.GetValue(Activation));

    public static ClipLoadOptions ToLoadOptions(string? configPath, string? activation)
    {
        ClipActivation? parsed = null;
        if (activation is not null)
        {
            if (!ClipActivationNames.TryParse(activation, out var a))
                throw new ArgumentException($"--activation '{activation}' is not one of: {string.Join(", ", ClipActivationNames.All)}");
            parsed = a;
        }
        return new ClipLoadOptions { ConfigPath = configPath, Activation = parsed };
    }

    /// <summary>"gelu (why)", plus how to choose when it is only the kind of file's default.</summary>
    public static string ActivationText(ClipConfig config) =>
        config.ActivationSummary
        + (config.ActivationIsDefault ? $" — pass --activation {string.Join("|", ClipActivationNames.All)} or --clip-config FILE to say it" : "");

    /// <summary>The loading message's part: "activation: gelu (why)" (see <see cref="ActivationText"/>).</summary>
    public static string DescribeActivation(ClipConfig config) => $"activation: {ActivationText(config)}";
}
