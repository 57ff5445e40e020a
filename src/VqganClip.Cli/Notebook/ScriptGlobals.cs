using Microsoft.DotNet.Interactive.Formatting;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// What a notebook cell sees as global functions, as in the .NET Interactive C# kernel: <c>display(x)</c>
/// formats x now as an output of the running cell and returns a handle whose <c>Update(y)</c> replaces that output.
/// Public because Roslyn scripts bind to the globals type's public members.
/// </summary>
public sealed class ScriptGlobals
{
    private readonly Action<DisplayedValue> _displayed;

    internal ScriptGlobals(Action<DisplayedValue> displayed) => _displayed = displayed;

    /// <summary>The MIME types every output is formatted to (what the kernel writes for toolkit types).</summary>
    public static readonly string[] DefaultMimeTypes = ["text/html", "text/plain"];

    // Lower-case to match the kernel's global function, so notebooks run unchanged in both.
#pragma warning disable IDE1006
    public DisplayedValue display(object? value, params string[] mimeTypes)
#pragma warning restore IDE1006
    {
        var types = mimeTypes is { Length: > 0 } ? mimeTypes : DefaultMimeTypes;
        var shown = new DisplayedValue(value!, FormattedValue.CreateManyFromObject(value!, types));
        _displayed(shown);
        return shown;
    }
}
