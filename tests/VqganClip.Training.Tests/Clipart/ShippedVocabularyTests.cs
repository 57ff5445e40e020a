using VqganClip.Clipart;
using VqganClip.Guidance.Prompts;

namespace VqganClip.Training.Tests.Clipart;

/// <summary>
/// data/clipart-clip.vocab.txt, the words the shipped CLIP saw in training, is data (the toolkit does not depend on the
/// clipart world); these tests keep it equal to what the clipart world's captions can contain, so it cannot drift.
/// </summary>
public class ShippedVocabularyTests
{
    private static PromptVocabulary ShippedVocabulary()
    {
        var path = Path.Combine(TestSetup.RepoRoot, "data", "clipart-clip.vocab.txt");
        Assert.Equal(path, PromptVocabulary.PathBeside(Path.Combine(TestSetup.RepoRoot, "data", "clipart-clip.safetensors")));
        return PromptVocabulary.Parse(File.ReadAllLines(path));
    }

    private static IEnumerable<string> WordsOf(IEnumerable<string> phrases) => phrases.SelectMany(p => p.Split(' '));

    [Fact]
    public void The_file_lists_exactly_the_words_of_the_caption_grammar()
    {
        var objects = Vocabulary.Kinds.Select(k => k.Word()).ToList();
        var colours = Vocabulary.Colors.Select(c => c.Word()).ToList();
        var sizes = Vocabulary.Sizes.SelectMany(s => CaptionGrammar.SizeWords[s]).ToList();
        var phrases = CaptionGrammar.PositionPhrases.Values.Concat(CaptionGrammar.RelationPhrases.Values)
            .Concat(CaptionGrammar.BackgroundPhrases.Values).Concat(CaptionGrammar.BackgroundNouns.Values)
            .SelectMany(p => p).Concat(CaptionGrammar.Prefixes).Concat(CaptionGrammar.Articles)
            .Append("of").Append(CaptionGrammar.Conjunction);   // CaptionWriter's own words: "in the middle of the sky", "A ... and B ..."
        var other = WordsOf(phrases).Except(objects).Except(colours).Except(sizes).Distinct().Order(StringComparer.Ordinal).ToList();

        var groups = ShippedVocabulary().Groups;
        Assert.Equal(new[] { "objects", "colours", "sizes", "other words" }, groups.Select(g => g.Group));
        Assert.Equal(objects, groups[0].Words);
        Assert.Equal(colours, groups[1].Words);
        Assert.Equal(sizes, groups[2].Words);
        Assert.Equal(other, groups[3].Words);
    }

    [Fact]
    public void Every_word_of_sampled_training_captions_is_in_the_file()
    {
        var vocabulary = ShippedVocabulary();
        var (_, captions) = ClipartBatches.Scenes(runSeed: 7, step: 0, count: 3000);
        var unknown = captions.SelectMany(c => vocabulary.UnknownWords(c)).Distinct().ToList();
        Assert.Empty(unknown);
        // and the file has no word the captions never use
        var used = captions.SelectMany(c => c.Split(' ')).ToHashSet();
        Assert.All(vocabulary.Words, w => Assert.Contains(w, used));
    }
}
