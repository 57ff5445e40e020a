using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using VqganClip.Cli;
using VqganClip.Tool.Commands;

namespace VqganClip.Training.Tests.Eval;

/// <summary>
/// <c>eval --generator transformer</c> with the tiny class-conditional fixture transformer (cin-tiny) and the tiny CLIP:
/// the transformer options are eval's too (RecipeOptions), every prompt is sampled, ranked and judged.
/// </summary>
public sealed class EvalTransformerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqgan-clip-eval-transformer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Checkpoint, string Yaml) CinTiny()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(TestSetup.Fixtures("taming-transformer-cin-tiny", "manifest.json")))!;
        var yaml = new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["target"] = "taming.models.cond_transformer.Net2NetTransformer",
                ["params"] = manifest["yaml_params"]!.DeepClone(),
            },
        };
        var yamlPath = Path.Combine(_dir, "cin-tiny-project.yaml");
        File.WriteAllText(yamlPath, yaml.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));   // JSON is YAML
        return (TestSetup.Fixtures("taming-transformer-cin-tiny", "last.safetensors"), yamlPath);
    }

    [Fact]
    public void Eval_samples_ranks_and_judges_each_prompt_with_the_transformer_options()
    {
        var (checkpoint, yaml) = CinTiny();
        var prompts = Path.Combine(_dir, "prompts.txt");
        File.WriteAllLines(prompts, ["a big red circle on the left", "a yellow star above a blue house"]);
        var images = Path.Combine(_dir, "images");
        var (console, output) = CliTestConsole.Create(400);
        var root = new RootCommand("test") { EvalCommand.Create(console) };
        int code = CliApp.Run(root, ["eval", "--generator", "transformer", "--transformer", checkpoint, "--transformer-config", yaml,
            "--clip", TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors"), "--class", "3", "--samples", "2", "--top-k", "10", "--refine", "1",
            "--prompts", prompts, "--images", images, "--threads", "1"], console);
        var text = System.Text.RegularExpressions.Regex.Replace(output.ToString(), @"\s+", " ");
        Assert.True(code == 0, text);
        Assert.Contains("Generator transformer: last.safetensors (class label (10 classes)), 2 samples, temperature 0.5, top-k 10, top-p off, refine 1 (anchor 1), class 3, augmented ranking cutouts, seed 0, 32x32", text);
        Assert.Matches(@"(ok  |FAIL) a big red circle on the left", text);
        Assert.Matches(@"Satisfied [0-2]/2 \([^)]*\) with the transformer generator", text);
        Assert.Equal(2, Directory.GetFiles(images, "*.png").Length);

        // a bad transformer setting is named before any picture
        (console, output) = CliTestConsole.Create(400);
        root = new RootCommand("test") { EvalCommand.Create(console) };
        code = CliApp.Run(root, ["eval", "--generator", "transformer", "--transformer", checkpoint, "--transformer-config", yaml,
            "--clip", TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors"), "--class", "10", "--prompts", prompts], console);
        Assert.Equal(UserErrors.UserError, code);
        Assert.Contains("error: ClassId 10 is outside the model's classes: it knows 10 (ids 0 to 9).", output.ToString().ReplaceLineEndings(" "));
    }

    [Fact]
    public void Seeds_repeat_the_evaluation_per_seed_as_single_seed_runs_would_and_summarise_them()
    {
        var (checkpoint, yaml) = CinTiny();
        var prompts = Path.Combine(_dir, "prompts.txt");
        File.WriteAllLines(prompts, ["a big red circle on the left", "a yellow star above a blue house"]);
        string[] Args(params string[] more) => ["eval", "--generator", "transformer", "--transformer", checkpoint, "--transformer-config", yaml,
            "--clip", TestSetup.Fixtures("clip-vit-tiny", "openai.safetensors"), "--class", "3", "--samples", "2", "--refine", "0",
            "--prompts", prompts, "--threads", "1", .. more];
        (int Code, string Text) Run(string[] args)
        {
            var (console, output) = CliTestConsole.Create(400);
            int code = CliApp.Run(new RootCommand("test") { EvalCommand.Create(console) }, args, console);
            return (code, System.Text.RegularExpressions.Regex.Replace(output.ToString(), @"\s+", " "));
        }

        var images = Path.Combine(_dir, "seeds");
        var report = Path.Combine(_dir, "seeds.md");
        var (code, text) = Run(Args("--seed", "4", "--seeds", "2", "--images", images, "--report", report));
        Assert.True(code == 0, text);
        Assert.Contains("Seed 4 (1 of 2):", text);
        Assert.Contains("Seed 5 (2 of 2):", text);
        Assert.Matches(@"Satisfied [0-2]/2 \([^)]*\) with the transformer generator, seed 5;", text);
        Assert.Matches(@"Over 2 seeds \(4-5\): satisfied [0-9.]+/2 on average \(lowest [0-2], highest [0-2]\): [0-2], [0-2]\.", text);
        var markdown = File.ReadAllText(report);
        Assert.StartsWith("Over 2 seeds (4-5)", markdown);
        Assert.Contains("## Seed 4", markdown);
        Assert.Contains("## Seed 5", markdown);

        // the second seed's pictures are the ones a run with that seed alone draws
        var single = Path.Combine(_dir, "single");
        (code, text) = Run(Args("--seed", "5", "--images", single));
        Assert.True(code == 0, text);
        Assert.DoesNotContain("Over ", text);
        var fromSeeds = Directory.GetFiles(Path.Combine(images, "seed-5"), "*.png").Order().ToArray();
        var alone = Directory.GetFiles(single, "*.png").Order().ToArray();
        Assert.Equal(alone.Select(Path.GetFileName), fromSeeds.Select(Path.GetFileName));
        Assert.Equal(2, alone.Length);
        for (int i = 0; i < alone.Length; i++)
            Assert.Equal(File.ReadAllBytes(alone[i]), File.ReadAllBytes(fromSeeds[i]));
        // and another seed draws something else
        var first = Directory.GetFiles(Path.Combine(images, "seed-4"), "*.png").Order().ToArray();
        Assert.NotEqual(File.ReadAllBytes(first[0]), File.ReadAllBytes(fromSeeds[0]));

        (code, text) = Run(Args("--seeds", "0"));
        Assert.Equal(UserErrors.UserError, code);
        Assert.Contains("--seeds must be between 1 and 100; got 0.", text);
    }
}
