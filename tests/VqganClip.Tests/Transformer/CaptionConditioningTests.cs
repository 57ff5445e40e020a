using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Transformer;

/// <summary>
/// The toolkit's caption conditioning stage (a caption's CLIP BPE tokens as a GPT prefix after the image codes), a
/// caption-conditioned Net2NetTransformer built on the cin-tiny fixture's first stage, its file round trip (with and
/// without the YAML), and that sampling draws only image codes.
/// </summary>
public sealed class CaptionConditioningTests
{
    private static readonly string[] Words = ["a", "red", "blue", "star", "circle", "on", "the", "left"];

    public CaptionConditioningTests() => EnsureTorch();

    private static CaptionConditioning Stage(int offset = 48, int context = 6) => CaptionConditioning.FromWords(Words, offset, context);

    [Fact]
    public void Known_words_map_after_the_codes_and_the_rest_is_unknown_or_padding()
    {
        var stage = Stage();
        var bpe = Words.SelectMany(w => ClipTokenizer.Default.Encode(w)).Distinct().Order().ToArray();
        Assert.Equal(bpe.Select(i => (long)i), stage.BpeIds.data<long>().ToArray());
        Assert.Equal(48 + bpe.Length + 2, stage.VocabularyNeeded);

        var ids = stage.EncodeIds("a red cat");
        long Known(string w) => 48 + Array.IndexOf(bpe, ClipTokenizer.Default.Encode(w).Single());
        Assert.Equal(new[] { Known("a"), Known("red"), stage.UnknownId, stage.PaddingId, stage.PaddingId, stage.PaddingId }, ids);
        Assert.Equal(["cat"], stage.UnknownWords("a red cat"));
        Assert.Equal("a red ?", stage.Decode(ids));

        // the IConditioningStage path takes BPE ids with negative padding and gives the same prefix
        using var raw = tensor(ClipTokenizer.Default.Encode("a red cat").Select(i => (long)i).Append(-1).ToArray()).unsqueeze(0);
        using var viaTensor = stage.Encode(raw);
        Assert.Equal(ids, viaTensor.data<long>().ToArray());
    }

    [Fact]
    public void A_caption_longer_than_the_prefix_is_refused_with_both_lengths()
    {
        var e = Assert.Throws<ArgumentException>(() => Stage(context: 3).EncodeIds("a red star on the left"));
        Assert.Contains("is 6 tokens long; this transformer reads at most 3", e.Message);
    }

    private static Net2NetTransformer CaptionModel(int context = 6, CaptionPlacement placement = CaptionPlacement.AsCaptioned)
    {
        using var sd = Checkpoint.Load(Fixture("taming-transformer-cin-tiny", "last.safetensors"));
        var firstStage = VqganModel.FromStateDictUnder(sd, Net2NetTransformer.FirstStagePrefix);
        var stage = Stage(firstStage.Config.NEmbed, context);
        var gptConfig = new GptConfig { VocabSize = stage.VocabularyNeeded, BlockSize = context + 64, NLayer = 2, NHead = 2, NEmbd = 32, NUnmasked = context };
        var config = new TransformerConfig
        {
            Gpt = gptConfig,
            FirstStage = firstStage.Config,
            Conditioning = ConditioningConfig.Caption(stage.Offset, context, placement),
            CondStageKey = "caption",
        };
        using var init = new Generator(5);
        var model = new Net2NetTransformer(config, firstStage, new Gpt(gptConfig, init), captionStage: stage);
        model.eval();
        return model;
    }

    [Fact]
    public void A_caption_model_saves_and_reloads_with_and_without_its_yaml()
    {
        using var model = CaptionModel();
        var dir = TempDir();
        var path = Path.Combine(dir, "caption.safetensors");
        model.Save(path, new Dictionary<string, string> { ["producer"] = "test" });
        Assert.True(File.Exists(Path.ChangeExtension(path, ".yaml")));
        Assert.Contains("target: vqganclip.CaptionConditioning", File.ReadAllText(Path.ChangeExtension(path, ".yaml")));

        // alone: the YAML stored in the file's metadata
        var bare = Path.Combine(dir, "bare.safetensors");
        File.Copy(path, bare);
        // no YAML anywhere: the caption stage is read from cond_stage_model.bpe_ids and the mask's unmasked prefix
        var stripped = Path.Combine(dir, "stripped.safetensors");
        using (var sd = Checkpoint.Load(path)) SafeTensors.Write(stripped, sd.Entries.Select(kv => (kv.Key, kv.Value)));
        using var c = model.CondStage is ITextConditioning text ? text.EncodeText(["a blue circle on the left", "a red star"]) : throw new InvalidOperationException();
        using var z = randint(0, 48, [2, 64], dtype: ScalarType.Int64);
        using var reference = model.ForwardTokens(z, c).Logits;
        foreach (var file in new[] { path, bare, stripped })
        {
            using var loaded = Net2NetTransformer.Load(file, hints: file == stripped ? new TransformerLoadHints { NHead = 2 } : null);
            Assert.Equal(ConditioningKind.Caption, loaded.Config.Conditioning.Kind);
            Assert.Equal(6, loaded.Config.Conditioning.CaptionContextLength);
            Assert.Equal(48, loaded.Config.Conditioning.CaptionOffset);
            using var logits = loaded.ForwardTokens(z, c).Logits;
            AssertIdentical(reference, logits, $"logits of {Path.GetFileName(file)}");
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public void A_model_drawn_in_the_middle_says_so_in_its_yaml_and_reloads_so()
    {
        using var model = CaptionModel(placement: CaptionPlacement.Middle);
        var dir = TempDir();
        var path = Path.Combine(dir, "middle.safetensors");
        model.Save(path);
        var yaml = File.ReadAllText(Path.ChangeExtension(path, ".yaml"));
        Assert.Contains("        offset: 48\n        drawn_at: middle\n", yaml);
        using (var loaded = Net2NetTransformer.Load(path)) Assert.Equal(CaptionPlacement.Middle, loaded.Config.Conditioning.CaptionPlacement);
        Assert.Contains("one-object scenes drawn in the middle", model.Config.Conditioning.Describe());

        // a model drawn where its captions say writes no drawn_at, and reads as such
        using var asCaptioned = CaptionModel();
        Assert.DoesNotContain("drawn_at", asCaptioned.Config.ToYaml());
        Assert.Equal(CaptionPlacement.AsCaptioned, TransformerConfig.FromYaml(asCaptioned.Config.ToYaml()).Conditioning.CaptionPlacement);

        var e = Assert.Throws<InvalidDataException>(() => TransformerConfig.FromYaml(yaml.Replace("drawn_at: middle", "drawn_at: left")));
        Assert.Contains("'model.params.cond_stage_config.params.drawn_at' should be 'middle' or absent (drawn where the caption says), got 'left'.", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void A_model_saved_with_its_first_stage_in_its_own_file_reloads_identically()
    {
        using var model = CaptionModel();
        var dir = TempDir();
        var path = Path.Combine(dir, "split.safetensors");
        var firstStagePath = Path.Combine(dir, "first-stage.safetensors");
        SafeTensors.Write(firstStagePath, model.FirstStage.state_dict().Select(kv => (kv.Key, kv.Value.detach().contiguous())));
        model.Save(path, firstStageFile: "first-stage.safetensors");

        Assert.DoesNotContain(Checkpoint.Inspect(path).Tensors, t => t.Name.StartsWith(Net2NetTransformer.FirstStagePrefix, StringComparison.Ordinal));
        Assert.Contains("ckpt_path: first-stage.safetensors", File.ReadAllText(Path.ChangeExtension(path, ".yaml")));

        using var c = ((ITextConditioning)model.CondStage).EncodeText(["a blue circle on the left", "a red star"]);
        using var z = randint(0, 48, [2, 64], dtype: ScalarType.Int64);
        using var logits = model.ForwardTokens(z, c).Logits;
        using var picture = model.DecodeToImage(z, 8, 8);
        // with the YAML beside it, and alone (the YAML in its metadata), from another working directory
        var bare = Path.Combine(dir, "bare.safetensors");
        File.Copy(path, bare);
        foreach (var file in new[] { path, bare })
        {
            using var loaded = Net2NetTransformer.Load(file);
            Assert.Equal("first-stage.safetensors", loaded.Config.FirstStage.CkptPath);
            using var again = loaded.ForwardTokens(z, c).Logits;
            AssertIdentical(logits, again, $"logits of {Path.GetFileName(file)}");
            using var decoded = loaded.DecodeToImage(z, 8, 8);
            AssertIdentical(picture, decoded, $"pictures of {Path.GetFileName(file)}");
        }

        // the first stage missing: the error names ckpt_path and where it looked
        File.Move(firstStagePath, firstStagePath + ".moved");
        var missing = Assert.Throws<FileNotFoundException>(() => Net2NetTransformer.Load(path));
        Assert.Contains("ckpt_path 'first-stage.safetensors' was not found", missing.Message);
        Assert.Contains(firstStagePath, missing.Message);

        // something that is not a VQGAN in its place
        using (var notVqgan = zeros(3)) SafeTensors.Write(firstStagePath, [("logit_scale", notVqgan)]);
        var wrong = Assert.Throws<CheckpointFormatException>(() => Net2NetTransformer.Load(path));
        Assert.Contains("first stage file is not a VQGAN", wrong.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Sampling_draws_only_image_codes_even_where_caption_tokens_are_likelier()
    {
        using var model = CaptionModel();
        using (no_grad())
        {
            // ln_f outputs ones everywhere; the head then gives every caption token +32 and every image code -32
            model.Transformer.get_parameter("ln_f.weight")!.fill_(0);
            model.Transformer.get_parameter("ln_f.bias")!.fill_(1);
            var head = model.Transformer.get_parameter("head.weight")!;
            head[TensorIndex.Slice(0, 48)].fill_(-1);
            head[TensorIndex.Slice(48)].fill_(1);
        }
        using var c = ((ITextConditioning)model.CondStage).EncodeText(["a red star", "a blue circle"]);
        using var generator = new Generator(3);
        using var tokens = model.Sample(c, 64, new SamplingOptions { Generator = generator });
        Assert.Equal(new long[] { 2, 64 }, tokens.shape);
        Assert.True(tokens.lt(48).all().item<bool>(), "a sampled token is outside the first stage's codebook");
        using var picture = model.DecodeToImage(tokens, 8, 8);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, picture.shape);
    }

    [Fact]
    public void A_caption_yaml_without_the_token_table_is_named()
    {
        using var model = CaptionModel();
        var dir = TempDir();
        var path = Path.Combine(dir, "nocaption.safetensors");
        model.Save(path);
        using (var sd = Checkpoint.Load(path))
        {
            sd.Remove("cond_stage_model." + CaptionConditioning.TableName);
            SafeTensors.Write(path, sd.Entries.Select(kv => (kv.Key, kv.Value)));
        }
        var e = Assert.ThrowsAny<Exception>(() => Net2NetTransformer.Load(path));
        Assert.Contains("no 'cond_stage_model.bpe_ids' token table", e.Message);
        Directory.Delete(dir, true);
    }
}
