using System.Buffers.Binary;
using System.CommandLine;
using VqganClip.Cli;
using VqganClip.Cli.Commands;
using VqganClip.Models.AudioClip;
using VqganClip.Models.Images;
using VqganClip.Tests.Transformer;
using static VqganClip.Tests.AudioClip.AudioClipTestSupport;

namespace VqganClip.Tests.AudioClip;

/// <summary><c>score --audio</c> and <c>generate --audio-prompt --audioclip</c> on the audioclip-tiny fixture.</summary>
public sealed class AudioClipCliTests : IDisposable
{
    static AudioClipCliTests() => TransformerTestSupport.EnsureTorch();

    private readonly string _dir = TempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>The fixture checkpoint as a user would have it: with a JSON beside it for what its shapes cannot say (text heads, hop).</summary>
    private string Checkpoint()
    {
        var path = Path.Combine(_dir, "AudioCLIP-tiny.pt");
        if (!File.Exists(path))
        {
            File.Copy(Fixture("AudioCLIP-tiny.pt"), path);
            File.WriteAllText(Path.Combine(_dir, "AudioCLIP-tiny.json"), $$"""{"transformer_heads": {{TextHeads}}, "hop_length": {{HopLength}}}""");
        }
        return path;
    }

    private string Wav()
    {
        using var io = Io();
        var samples = io["inputs.audio"][1, 0].data<float>().ToArray();
        var bytes = new byte[samples.Length * 4];
        for (int i = 0; i < samples.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), samples[i] / 32768f);
        return TestWav.Write(_dir, "sound.wav", TestWav.Build(3, 1, 44100, 32, bytes));
    }

    private static (int Code, string Output) Invoke(params string[] args)
    {
        var (console, output) = CliTestConsole.Create(200);
        var root = new RootCommand("test") { ScoreCommand.Create(console), GenerateCommand.Create(console) };
        return (CliApp.Run(root, args, console), output.ToString());
    }

    /// <summary>The fixture's own text tower has a 500-token vocabulary, too small for real texts: the texts go through
    /// the clip-vit-tiny fixture's (embed 32 as well; a shared width, not a trained shared space).</summary>
    [Fact]
    public void Audio_score_ranks_the_texts_as_AudioZeroShot_does()
    {
        string[] texts = ["a dog barking", "rain on a roof", "a church bell"];
        var clip = TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors");
        var (code, text) = Invoke(["score", "--audio", Wav(), "--audioclip", Checkpoint(), "--clip", clip, .. texts]);
        Assert.True(code == 0, text);
        Assert.Contains("AudioCLIP on sound.wav (0.10 s)", text);
        using var model = AudioClipLoader.Load(Checkpoint());
        using var textTower = VqganClip.Models.Clip.ClipModel.Load(clip);
        using var samples = AudioClipInput.Load(Wav(), model.Config);
        var expected = AudioZeroShot.Score(model, textTower, samples, texts).Ranking(0).Select(i => texts[i]).ToArray();
        var positions = expected.Select(t => text.IndexOf(t, StringComparison.Ordinal)).ToArray();
        Assert.All(positions, p => Assert.True(p >= 0, text));
        Assert.Equal(positions.Order(), positions); // printed best first
    }

    [Fact]
    public void Audio_score_and_generate_errors_are_one_red_line()
    {
        var (code, text) = Invoke("score", "--audio", Wav(), "a dog");
        Assert.Equal(1, code);
        Assert.Contains("--audio needs --audioclip FILE", text);
        (code, text) = Invoke("generate", "--audio-prompt", Wav(), "--generator", "pixels", "--steps", "1");
        Assert.Equal(1, code);
        Assert.Contains("--audio-prompt needs --audioclip FILE", text);
        File.WriteAllText(Path.Combine(_dir, "notes.wav"), "not audio at all");
        (code, text) = Invoke("score", "--audio", Path.Combine(_dir, "notes.wav"), "--audioclip", Checkpoint(), "a dog");
        Assert.Equal(1, code);
        Assert.Contains("not a WAV file", text.ReplaceLineEndings(""));
        Assert.DoesNotContain("   at ", text);
        (code, text) = Invoke("score", "--audio", Wav(), "--audioclip", Checkpoint(), "a dog");
        Assert.Equal(1, code);
        Assert.Contains("The CLIP's text tower knows 500 tokens but the texts need token", text.ReplaceLineEndings(""));
    }

    [Fact]
    public void Audio_generate_steers_with_the_sound_using_the_files_own_clip_and_records_it()
    {
        var output = Path.Combine(_dir, "by-ear.png");
        var (code, text) = Invoke("generate", "--audio-prompt", Wav() + ":2", "--audioclip", Checkpoint(), "--generator", "pixels",
            "--size", "48", "--steps", "3", "--cutn", "2", "--seed", "4", "--out", output);
        Assert.True(code == 0, text);
        Assert.Contains("AudioCLIP AudioCLIP-tiny.pt: audio head", text);
        var chunks = ImageIO.ReadPngText(output);
        Assert.Equal(Wav() + ":2", chunks["audio_prompts"]);
        Assert.Equal("AudioCLIP-tiny.pt", chunks["clip"]);
        Assert.Contains($"--audio-prompt \"{Wav()}:2\"", chunks["command"].Replace("'", "\""));
        Assert.Contains("--audioclip", chunks["command"]);
    }
}
