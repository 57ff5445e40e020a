using VqganClip.Models.Audio;
using VqganClip.Training.AudioClip;

namespace VqganClip.Training.Tests.AudioClip;

/// <summary>espeak-ng synthesis of clipart captions (needs espeak-ng on PATH: .ci/run installs it).</summary>
public class SpokenCaptionTests
{
    [Fact]
    public void Espeak_speaks_a_caption_into_a_readable_wav_of_a_plausible_length()
    {
        var dir = Directory.CreateTempSubdirectory("spoken-").FullName;
        try
        {
            var clip = new SpokenCaption("a big red star on the left", new SpeechStyle("en-us+f1", 175, 50));
            var path = SpokenCaptions.Synthesize([clip], dir)[0];
            var wav = WavReader.Read(path);
            Assert.Equal(22050, wav.SampleRate);
            Assert.Equal(1, wav.Channels);
            // seven words at 175 words a minute: about 2.4 s with espeak's pauses; never under 1 s or over 5 s
            Assert.InRange(wav.Seconds, 1.0, 5.0);
            Assert.True(wav.Mono.Max(MathF.Abs) > 0.05f, "the WAV is silent");
            // faster speech is shorter, and the cache answers a second request without synthesising again
            var fast = SpokenCaptions.Synthesize([clip with { Style = clip.Style with { WordsPerMinute = 300 } }], dir)[0];
            Assert.True(WavReader.Read(fast).Seconds < wav.Seconds * 0.8);
            var written = File.GetLastWriteTimeUtc(path);
            Assert.Equal(path, SpokenCaptions.Synthesize([clip], dir)[0]);
            Assert.Equal(written, File.GetLastWriteTimeUtc(path));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_missing_or_failing_espeak_is_a_clear_error_that_names_the_command()
    {
        var dir = Directory.CreateTempSubdirectory("spoken-").FullName;
        try
        {
            var style = new SpeechStyle("en-us+m1", 175, 50);
            var missing = Assert.Throws<SpeechSynthesisException>(() =>
                new EspeakSynthesizer("no-such-espeak-ng").Speak("a red star", style, Path.Combine(dir, "a.wav")));
            Assert.Contains("'no-such-espeak-ng -v en-us+m1 -s 175 -p 50 -w ", missing.Message);
            Assert.Contains("apt-get install espeak-ng", missing.Message);

            var failing = Assert.Throws<SpeechSynthesisException>(() =>
                new EspeakSynthesizer().Speak("a red star", style with { Voice = "zz-nonexistent" }, Path.Combine(dir, "b.wav")));
            Assert.Contains("'espeak-ng -v zz-nonexistent -s 175 -p 50", failing.Message);
            Assert.Contains("failed (exit code", failing.Message);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Training_clips_are_a_function_of_the_seed_and_never_use_the_held_out_voice()
    {
        var a = SpokenCaptions.Training(3, 200);
        Assert.Equal(a, SpokenCaptions.Training(3, 200));
        Assert.NotEqual(a.Select(c => c.Caption), SpokenCaptions.Training(4, 200).Select(c => c.Caption));
        Assert.DoesNotContain(a, c => c.Style.Voice == SpeechVoices.HeldOut);
        Assert.True(a.Select(c => c.Style.Voice).Distinct().Count() >= 10, "few voices");
        Assert.InRange(a.Select(c => c.Style.WordsPerMinute).Min(), SpeechVoices.MinSpeed, SpeechVoices.MinSpeed + 10);
        var heldOut = SpokenCaptions.HeldOut(100);
        Assert.All(heldOut, c => Assert.Equal(SpeechVoices.HeldOutStyle, c.Style));
        Assert.DoesNotContain(SpeechVoices.Training, v => v.Split('+')[0] == SpeechVoices.HeldOut.Split('+')[0] || v.Split('+')[1] == SpeechVoices.HeldOut.Split('+')[1]);
    }

    [Fact]
    public void The_wide_voice_set_is_larger_and_still_never_has_the_held_out_accent_or_variant()
    {
        var (accent, variant) = (SpeechVoices.HeldOut.Split('+')[0], SpeechVoices.HeldOut.Split('+')[1]);
        Assert.Equal(77, SpeechVoices.WideTraining.Length);
        Assert.Subset(SpeechVoices.WideTraining.ToHashSet(), SpeechVoices.Training.ToHashSet());
        Assert.DoesNotContain(SpeechVoices.WideTraining, v => v.Split('+')[0] == accent || v.Split('+')[1] == variant);
        var wide = SpokenCaptions.Training(3, 400, wideVoices: true);
        Assert.Equal(wide, SpokenCaptions.Training(3, 400, wideVoices: true));
        Assert.Equal(SpokenCaptions.Training(3, 400).Select(c => c.Caption), wide.Select(c => c.Caption));   // the same captions, other voices
        Assert.DoesNotContain(wide, c => c.Style.Voice.Split('+')[0] == accent || c.Style.Voice.Split('+')[1] == variant);
        Assert.True(wide.Select(c => c.Style.Voice).Distinct().Count() > 50, "few voices");
        Assert.True(wide.Min(c => c.Style.WordsPerMinute) < SpeechVoices.MinSpeed && wide.Max(c => c.Style.Pitch) > SpeechVoices.MaxPitch);
        Assert.All(wide, c => Assert.InRange(c.Style.WordsPerMinute, SpeechVoices.WideMinSpeed, SpeechVoices.WideMaxSpeed));
    }
}
