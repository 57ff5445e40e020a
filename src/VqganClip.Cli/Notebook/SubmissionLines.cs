using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive.CSharp;

namespace VqganClip.Cli.Notebook;

/// <summary>
/// Line numbers for runtime errors. The C# kernel compiles submissions without debug information, so an exception's
/// stack trace cannot say which line of the cell threw. Before each cell the runner gives the kernel's script options
/// debug information and a file name per cell (the kernel keeps them in a private field, hence reflection); the frames
/// that name that file give the line. Where the field is missing (another kernel version) lines are simply unknown (0).
/// </summary>
internal static class SubmissionLines
{
    private static readonly FieldInfo? ScriptOptionsField =
        typeof(CSharpKernel).GetField("_scriptOptions", BindingFlags.Instance | BindingFlags.NonPublic);

    public static void Prepare(CSharpKernel kernel, string cellPath)
    {
        if (ScriptOptionsField?.GetValue(kernel) is ScriptOptions options)
            ScriptOptionsField.SetValue(kernel, options.WithEmitDebugInformation(true).WithFilePath(cellPath).WithFileEncoding(System.Text.Encoding.UTF8));
    }

    /// <summary>The 1-based line of the cell that threw (the innermost frame in the cell's file), or 0.</summary>
    public static int Of(Exception e, string cellPath) =>
        new StackTrace(e, true).GetFrames()
            .Where(f => string.Equals(f.GetFileName(), cellPath, StringComparison.Ordinal) && f.GetFileLineNumber() > 0)
            .Select(f => f.GetFileLineNumber())
            .FirstOrDefault();
}
