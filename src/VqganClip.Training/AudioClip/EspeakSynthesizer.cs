using System.Diagnostics;

namespace VqganClip.Training.AudioClip;

/// <summary>The speech synthesiser is missing or failed; the message names the command line that was run.</summary>
public sealed class SpeechSynthesisException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Speaks a text into a WAV file with Debian's <c>espeak-ng</c> (16-bit mono, 22.05 kHz): <c>espeak-ng -v VOICE -s WPM
/// -p PITCH -w FILE -- TEXT</c>. The file is written under a temporary name and renamed, so parallel runs and a crash
/// never leave a half-written WAV where the cache looks.
/// </summary>
public sealed class EspeakSynthesizer
{
    public const string DefaultCommand = "espeak-ng";

    public EspeakSynthesizer(string command = DefaultCommand) => Command = command;

    /// <summary>The program run (a name on PATH or a path).</summary>
    public string Command { get; }

    /// <summary>The command line for <paramref name="text"/>, as it is run (for messages).</summary>
    public string CommandLine(string text, SpeechStyle style, string wavPath) =>
        $"{Command} -v {style.Voice} -s {style.WordsPerMinute} -p {style.Pitch} -w {wavPath} -- \"{text}\"";

    /// <summary>Writes <paramref name="text"/> spoken in <paramref name="style"/> to <paramref name="wavPath"/> (overwritten).</summary>
    public void Speak(string text, SpeechStyle style, string wavPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(wavPath))!);
        var temp = $"{wavPath}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        var start = new ProcessStartInfo(Command)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-v", style.Voice, "-s", style.WordsPerMinute.ToString(), "-p", style.Pitch.ToString(), "-w", temp, "--", text })
            start.ArgumentList.Add(a);
        string line = CommandLine(text, style, wavPath);
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SpeechSynthesisException(
                $"Could not run '{line}': {e.Message}. The spoken captions need espeak-ng (Debian: apt-get install espeak-ng).", e);
        }
        using (process)
        {
            if (process is null) throw new SpeechSynthesisException($"Could not start '{line}'.");
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            string err = stderr.Result.Trim();
            // espeak-ng says "Error: ..." on stderr for an unknown voice; some versions still exit 0
            if (process.ExitCode != 0 || err.StartsWith("Error", StringComparison.Ordinal) || !File.Exists(temp) || new FileInfo(temp).Length <= 44)
            {
                if (File.Exists(temp)) File.Delete(temp);
                throw new SpeechSynthesisException(
                    $"'{line}' failed (exit code {process.ExitCode}{(err.Length > 0 ? $": {err}" : "")}){(process.ExitCode == 0 ? " and wrote no audio" : "")}.");
            }
        }
        File.Move(temp, wavPath, overwrite: true);
    }
}
