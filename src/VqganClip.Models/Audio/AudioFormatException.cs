namespace VqganClip.Models.Audio;

/// <summary>An audio file that cannot be used as it is: not a WAV, empty, too short, or an encoding not read here. The message names the file.</summary>
public sealed class AudioFormatException(string path, string problem) : Exception($"Audio file '{path}': {problem}")
{
    public string FilePath { get; } = path;
    public string Problem { get; } = problem;
}
