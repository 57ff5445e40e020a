using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VqganClip.Models.IO;

/// <summary>
/// Recognises the files that most often sit where a model file should be: an HTML page saved by a failed or
/// interrupted download (a login, error or redirect page), and a git-lfs pointer left by cloning a model
/// repository without <c>git lfs</c>. Every loader entry point asks this before reading a checkpoint or a
/// config, so each says what the file really is instead of a parse error about its first bytes.
/// </summary>
public static partial class StandInFiles
{
    private const string LfsSpec = "version https://git-lfs.github.com/spec/v1";

    /// <summary>Throws <see cref="CheckpointFormatException"/> when <paramref name="path"/> is an HTML page or a
    /// git-lfs pointer; <paramref name="expected"/> says what it should have been ("a checkpoint", "a VQGAN config").</summary>
    public static void ThrowIfStandIn(string path, string expected = "a checkpoint")
    {
        if (Describe(path, expected) is { } problem)
            throw CheckpointFormatException.ForWholeFile(path, problem.Format, problem.Message);
    }

    /// <summary>The format name and message for a stand-in file, or null for anything else (or no file).</summary>
    public static (string Format, string Message)? Describe(string path, string expected = "a checkpoint")
    {
        if (!File.Exists(path)) return null;
        var head = new byte[1024];
        int n;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Describe(head.AsSpan(0, n), path, expected);
    }

    /// <summary>As <see cref="Describe(string, string)"/>, from the file's first bytes (up to 1 KiB is plenty).</summary>
    public static (string Format, string Message)? Describe(ReadOnlySpan<byte> head, string path, string expected = "a checkpoint")
    {
        var text = Encoding.UTF8.GetString(head).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (text.StartsWith("<!DOCTYPE html", StringComparison.OrdinalIgnoreCase) || text.StartsWith("<html", StringComparison.OrdinalIgnoreCase))
            return ("html", $"'{path}' is an HTML page, not {expected} (a failed or interrupted download?): download the file again");
        if (text.StartsWith(LfsSpec, StringComparison.Ordinal) && text.Contains("oid sha256:", StringComparison.Ordinal))
        {
            var size = LfsSize().Match(text);
            var expectedBytes = size.Success && long.TryParse(size.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
                ? $"{bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes expected"
                : "size unknown";
            return ("git-lfs pointer", $"'{path}' is a git-lfs pointer ({expectedBytes}), not {expected}: run `git lfs pull` in that clone or download the file directly");
        }
        return null;
    }

    [GeneratedRegex(@"(?m)^size (\d{1,19})\s*$")]
    private static partial Regex LfsSize();
}
