using VqganClip.Guidance;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Transformer;
using VqganClip.Models.Vqgan;
using VqganClip.Tests.Guidance;
using VqganClip.Tests.Transformer;
using static TorchSharp.torch;
using static VqganClip.Tests.Transformer.TransformerTestSupport;

namespace VqganClip.Tests.Pipeline;

/// <summary>
/// The models of the pipeline tests, loaded once per test class: the tiny fixture CLIP (32px), the class-conditional
/// cin-tiny transformer (10 classes, f4 first stage of 48 codes, block 64: an 8x8 grid of a 32x32 picture) copied
/// into a folder with its YAML and a names file, and an unconditional transformer made of the same weights.
/// </summary>
public sealed class PipelineModels : IDisposable
{
    /// <summary>Names of cin-tiny's 10 classes (a test's choice: the fixture's classes have none).</summary>
    public static readonly string[] Names = ["apple", "bicycle", "cat", "dog", "elephant", "fish", "guitar", "house", "island", "jacket"];

    public PipelineModels()
    {
        Folder = TempDir();
        Checkpoint = Path.Combine(Folder, "cin-tiny.safetensors");
        File.Copy(Fixture(TransformerTestSupport.Cin, "last.safetensors"), Checkpoint);
        Config = Path.Combine(Folder, "cin-tiny-project.yaml");
        File.WriteAllText(Config, ProjectYaml(TransformerTestSupport.Cin));
        NamesFile = Path.Combine(Folder, "names.txt");
        File.WriteAllLines(NamesFile, Names);
        Clip = ClipModel.Load(TinyModels.ClipPath);
        Cin = Net2NetTransformer.Load(Checkpoint, Config, device: CPU);

        // the same GPT and first stage read as an unconditional model (SOS token 5), written as a file with its YAML
        UnconditionalCheckpoint = Path.Combine(Folder, "uncond-tiny.safetensors");
        UnconditionalConfig = Path.Combine(Folder, "uncond-tiny.yaml");
        Unconditional = BuildUnconditional(Cin.Config);
        SafeTensors.Write(UnconditionalCheckpoint, Unconditional.state_dict().Select(kv => (kv.Key, kv.Value)));
        File.WriteAllText(UnconditionalConfig, Unconditional.Config.ToYaml());

        // a caption-conditioned model (the toolkit's CaptionConditioning: 6 caption tokens after the 48 codes) on the same first stage, random GPT
        CaptionCheckpoint = Path.Combine(Folder, "caption-tiny.safetensors");
        Caption = BuildCaption();
        Caption.Save(CaptionCheckpoint);
    }

    /// <summary>The words the caption model's stage knows.</summary>
    public static readonly string[] CaptionWords = ["a", "red", "blue", "star", "circle", "on", "the", "left"];

    public string Folder { get; }
    public string Checkpoint { get; }
    public string Config { get; }
    public string NamesFile { get; }
    public string UnconditionalCheckpoint { get; }
    public string UnconditionalConfig { get; }
    public ClipModel Clip { get; }
    public Net2NetTransformer Cin { get; }
    public Net2NetTransformer Unconditional { get; }
    public string CaptionCheckpoint { get; }
    public Net2NetTransformer Caption { get; }

    public static ClassNames ClassNames => VqganClip.Models.Transformer.ClassNames.Of(Names);

    public TransformerPipeline CinPipeline() => new(Cin, Clip, ClassNames);

    private static Net2NetTransformer BuildUnconditional(TransformerConfig cin)
    {
        using var sd = VqganClip.Models.IO.Checkpoint.Load(Fixture(TransformerTestSupport.Cin, "last.safetensors"), Net2NetTransformer.IsNet2NetTensorName);
        var config = cin with { Conditioning = ConditioningConfig.Unconditional, SosToken = 5, CondStageKey = "image" };
        return Net2NetTransformer.FromStateDict(sd, config, device: CPU);
    }

    private static Net2NetTransformer BuildCaption()
    {
        using var sd = VqganClip.Models.IO.Checkpoint.Load(Fixture(TransformerTestSupport.Cin, "last.safetensors"));
        var firstStage = VqganModel.FromStateDictUnder(sd, Net2NetTransformer.FirstStagePrefix, device: CPU);
        const int context = 6;
        var stage = CaptionConditioning.FromWords(CaptionWords, firstStage.Config.NEmbed, context);
        var gpt = new GptConfig { VocabSize = stage.VocabularyNeeded, BlockSize = context + 64, NLayer = 2, NHead = 2, NEmbd = 32, NUnmasked = context };
        var config = new TransformerConfig
        {
            Gpt = gpt,
            FirstStage = firstStage.Config,
            Conditioning = ConditioningConfig.Caption(stage.Offset, context),
            CondStageKey = "caption",
        };
        using var init = new Generator(5);
        var model = new Net2NetTransformer(config, firstStage, new Gpt(gpt, init), captionStage: stage);
        model.Transformer.SetRequiresGrad(false);
        model.eval();
        return model;
    }

    public void Dispose()
    {
        Cin.Dispose();
        Caption.Dispose();
        Unconditional.Dispose();
        Clip.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
