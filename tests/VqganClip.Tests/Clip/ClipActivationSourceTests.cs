using TorchSharp;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using static TorchSharp.torch;

namespace VqganClip.Tests.Clip;

/// <summary>
/// Which MLP activation a CLIP file runs with, and why. The tiny fixture's reference outputs were made with
/// QuickGELU, so a load that picks QuickGELU matches them and one that picks GELU measurably does not.
/// open_clip's state dicts use OpenAI's names, so the fixture's weights copied alone are an open_clip file.
/// </summary>
public class ClipActivationSourceTests : ClipTempFolderTest
{
    // Width-16 text: width/64 gives no heads, so tests without a config give them (not the activation).
    private static readonly ClipConfigHints TinyHeads = new() { TextHeads = 2, VisionHeads = 1 };

    private const string OpenClipConfig = """
        {"model_cfg": {"embed_dim": 32, QUICK "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8},
          "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 2}},
         "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}}
        """;

    private static string OpenClipConfigJson(bool? quickGelu) =>
        OpenClipConfig.Replace("QUICK", quickGelu is { } q ? $"\"quick_gelu\": {(q ? "true" : "false")}," : "");

    /// <summary>The fixture's weights alone in a fresh folder, under open_clip's hub file name.</summary>
    private string OpenClipFile(string? configJson = null)
    {
        var dir = NewTempDir();
        var path = Path.Combine(dir, "open_clip_model.safetensors");
        File.Copy(ClipTestSupport.Fixture("openai.safetensors"), path);
        if (configJson is not null) File.WriteAllText(Path.Combine(dir, "open_clip_config.json"), configJson);
        return path;
    }

    /// <summary>Largest |image features - the QuickGELU reference|.</summary>
    private static double DistanceFromQuickGeluReference(ClipModel model)
    {
        using var io = SafeTensors.Read(ClipTestSupport.Fixture("io.safetensors"));
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return (model.EncodeImage(io["inputs.images"]) - io["outputs.image_features"]).abs().max().item<float>();
    }

    [Fact]
    public void An_open_clip_file_without_its_config_runs_gelu_and_says_why()
    {
        using var model = ClipModel.Load(OpenClipFile(), options: new ClipLoadOptions { Hints = TinyHeads });
        Assert.Equal(ClipActivation.Gelu, model.Config.VisionActivation);
        Assert.Equal(ClipActivation.Gelu, model.Config.TextActivation);
        Assert.True(model.Config.ActivationIsDefault);
        Assert.Equal(
            "gelu (open_clip default; no open_clip_config.json beside the file: a -quickgelu model, or OpenAI weights saved as a state dict, needs the activation override quick-gelu)",
            model.Config.ActivationSummary);
        Assert.True(DistanceFromQuickGeluReference(model) > 1e-3, $"GELU features are {DistanceFromQuickGeluReference(model)} from the QuickGELU reference");
    }

    [Theory]
    [InlineData(true, ClipActivation.QuickGelu, "quick-gelu (open_clip_config.json quick_gelu=true)")]
    [InlineData(false, ClipActivation.Gelu, "gelu (open_clip_config.json quick_gelu=false)")]
    [InlineData(null, ClipActivation.Gelu, "gelu (open_clip_config.json has no quick_gelu: open_clip default false)")]
    public void An_open_clip_config_beside_the_file_decides_the_activation(bool? quickGelu, ClipActivation expected, string summary)
    {
        // Heads come from the config too: nothing is passed.
        using var model = ClipModel.Load(OpenClipFile(OpenClipConfigJson(quickGelu)));
        Assert.Equal(expected, model.Config.VisionActivation);
        Assert.Equal(expected, model.Config.TextActivation);
        Assert.False(model.Config.ActivationIsDefault);
        Assert.Equal(summary, model.Config.ActivationSummary);
        var distance = DistanceFromQuickGeluReference(model);
        if (expected == ClipActivation.QuickGelu) Assert.True(distance < 1e-5, $"QuickGELU features are {distance} from the reference");
        else Assert.True(distance > 1e-3, $"GELU features are {distance} from the QuickGELU reference");
    }

    [Fact]
    public void The_activation_override_beats_the_config_and_the_default()
    {
        using var overConfig = ClipModel.Load(OpenClipFile(OpenClipConfigJson(true)), options: new ClipLoadOptions { Activation = ClipActivation.Gelu });
        Assert.Equal("gelu (activation override)", overConfig.Config.ActivationSummary);
        Assert.True(DistanceFromQuickGeluReference(overConfig) > 1e-3);

        using var overDefault = ClipModel.Load(OpenClipFile(), options: new ClipLoadOptions { Hints = TinyHeads, Activation = ClipActivation.QuickGelu });
        Assert.Equal("quick-gelu (activation override)", overDefault.Config.ActivationSummary);
        Assert.False(overDefault.Config.ActivationIsDefault);
        Assert.True(DistanceFromQuickGeluReference(overDefault) < 1e-5);

        // The same GELU model whichever way it was asked for.
        using var byDefault = ClipModel.Load(OpenClipFile(), options: new ClipLoadOptions { Hints = TinyHeads });
        Assert.Equal(DistanceFromQuickGeluReference(byDefault), DistanceFromQuickGeluReference(overConfig), 6);
    }

    [Fact]
    public void An_explicit_config_path_is_read_like_one_beside_the_file()
    {
        var elsewhere = Path.Combine(NewTempDir(), "my-model.json");
        File.WriteAllText(elsewhere, OpenClipConfigJson(true));
        using var model = ClipModel.Load(OpenClipFile(), options: new ClipLoadOptions { ConfigPath = elsewhere });
        Assert.Equal("quick-gelu (my-model.json quick_gelu=true)", model.Config.ActivationSummary);
        Assert.True(DistanceFromQuickGeluReference(model) < 1e-5);
    }

    [Fact]
    public void OpenAI_archives_and_Hugging_Face_files_keep_quick_gelu_without_a_config()
    {
        var dir = NewTempDir();
        var jit = Path.Combine(dir, "ViT-tiny.pt");
        File.Copy(ClipTestSupport.Fixture("openai_jit.pt"), jit);
        using var openai = ClipModel.Load(jit, options: new ClipLoadOptions { Hints = TinyHeads });
        Assert.Equal("quick-gelu (OpenAI checkpoint (TorchScript archive))", openai.Config.ActivationSummary);
        Assert.True(DistanceFromQuickGeluReference(openai) < 1e-5);

        var hf = Path.Combine(NewTempDir(), "model.safetensors");
        File.Copy(ClipTestSupport.Fixture("hf_model.safetensors"), hf);
        using var hfModel = ClipModel.Load(hf, options: new ClipLoadOptions { Hints = TinyHeads });
        Assert.Equal("quick-gelu (Hugging Face CLIPConfig default; no config.json beside the file)", hfModel.Config.ActivationSummary);
        Assert.True(DistanceFromQuickGeluReference(hfModel) < 1e-5);

        // With its config.json, the Hugging Face file says it itself.
        File.Copy(ClipTestSupport.Fixture("hf_config.json"), Path.Combine(Path.GetDirectoryName(hf)!, "config.json"));
        using var hfWithConfig = ClipModel.Load(hf);
        Assert.Equal("quick-gelu (config.json hidden_act=quick_gelu)", hfWithConfig.Config.ActivationSummary);
    }

    [Fact]
    public void A_state_dict_still_holding_OpenAIs_archive_scalars_is_OpenAI()
    {
        using var source = SafeTensors.Read(ClipTestSupport.Fixture("openai.safetensors"));
        var path = Path.Combine(NewTempDir(), "clip.safetensors");
        using (var scope = torch.NewDisposeScope())
            SafeTensors.Write(path, source.Entries.Select(kv => (kv.Key, kv.Value))
                .Append(("input_resolution", torch.tensor(32L))).Append(("context_length", torch.tensor(77L))).Append(("vocab_size", torch.tensor(49408L))), null);
        using var model = ClipModel.Load(path, options: new ClipLoadOptions { Hints = TinyHeads });
        Assert.Equal(ClipActivation.QuickGelu, model.Config.TextActivation);
        Assert.StartsWith("quick-gelu (OpenAI checkpoint (it holds OpenAI's input_resolution", model.Config.ActivationSummary);
        Assert.True(DistanceFromQuickGeluReference(model) < 1e-5);
    }

    [Fact]
    public void The_shipped_CLIP_is_known_as_this_toolkits_own_and_keeps_quick_gelu()
    {
        var info = Checkpoint.Inspect(Path.Combine(TestSetup.RepoRoot, "data", "clipart-clip.safetensors"));
        Assert.True(ClipConfig.TryInferFromCheckpoint(info, null, out var config, out var problem), problem);
        Assert.Equal(ClipActivation.QuickGelu, config!.VisionActivation);
        Assert.Equal("quick-gelu (made by this toolkit ('vqgan-clip train clip'), whose CLIP uses QuickGELU)", config.ActivationSummary);
    }

    [Theory]
    [InlineData("gelu", ClipActivation.Gelu)]
    [InlineData("quick-gelu", ClipActivation.QuickGelu)]
    [InlineData("quick_gelu", ClipActivation.QuickGelu)]
    public void Activation_names_parse(string name, ClipActivation expected) => Assert.Equal(expected, ClipActivationNames.Parse(name));

    [Fact]
    public void An_unknown_activation_name_is_refused_naming_it_and_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => ClipActivationNames.Parse("relu"));
        Assert.Equal("activation override 'relu' is not one of: gelu, quick-gelu", e.Message);
    }
}
