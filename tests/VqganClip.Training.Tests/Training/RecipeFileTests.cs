using System.CommandLine;
using System.CommandLine.Parsing;
using VqganClip.Tool.Commands;

namespace VqganClip.Training.Tests.Training;

/// <summary>
/// The shipped models' recipes (recipes/*.rsp, run as <c>vqgan-clip train clip @recipes/clip-1-contrastive.rsp</c>)
/// parse through the real <c>train</c> command tree with System.CommandLine's own response-file expansion, the
/// same <c>root.Parse(args)</c> the executable runs. Nothing is invoked: no training starts.
/// </summary>
public class RecipeFileTests
{
    private static string RecipeDirectory => Path.Combine(TestSetup.RepoRoot, "recipes");

    public static TheoryData<string> Recipes()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(RecipeDirectory, "*.rsp").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    /// <summary>
    /// The <c>train</c> subcommand a recipe is for, read from its own "vqgan-clip train X @recipes/FILE" comment line,
    /// so the instruction a reader copies is the one tested.
    /// </summary>
    private static string Subcommand(string file)
    {
        var match = File.ReadAllLines(Path.Combine(RecipeDirectory, file))
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, @"^#.*vqgan-clip train ([a-z][a-z0-9]*) @recipes/" + System.Text.RegularExpressions.Regex.Escape(file) + "$"))
            .FirstOrDefault(m => m.Success);
        Assert.True(match is not null, $"recipes/{file} has no 'vqgan-clip train X @recipes/{file}' line saying how to run it");
        return match!.Groups[1].Value;
    }

    private static ParseResult Parse(string file, params string[] extra)
    {
        var root = new RootCommand("test") { TrainCommand.Create() };
        return root.Parse(["train", Subcommand(file), "@" + Path.Combine(RecipeDirectory, file), .. extra]);
    }

    /// <summary>What the file should expand to: every line that is not blank or a '#' comment, split at spaces.</summary>
    private static string[] ExpectedTokens(string file) =>
        File.ReadAllLines(Path.Combine(RecipeDirectory, file))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToArray();

    [Fact]
    public void Every_shipped_stage_has_a_recipe()
    {
        var files = Directory.GetFiles(RecipeDirectory, "*.rsp").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(
            ["audioclip-1-clipart.rsp", "biggan-1-clipart.rsp", "clip-1-contrastive.rsp", "clip-2-guided.rsp", "clip-3-guided.rsp", "judge.rsp",
             "pix2pix-1-clipart.rsp", "stylegan-1-clipart.rsp", "transformer-1-gpt.rsp", "vqgan-1.rsp", "vqgan-2.rsp", "vqgan-3-decoder.rsp"],
            files);
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void Recipe_parses_with_no_errors_one_option_per_line(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(RecipeDirectory, file));
        Assert.StartsWith("# ", lines[0]);
        foreach (var line in lines.Where(l => !l.StartsWith('#')))
            Assert.Matches(@"^--[a-z][a-z0-9-]* \S+$", line);   // one option and its value; comments only on lines of their own

        var result = Parse(file);
        Assert.Empty(result.Errors.Select(e => e.Message));
        Assert.Empty(result.UnmatchedTokens);
        Assert.Equal(Subcommand(file), result.CommandResult.Command.Name);
        // The file expanded in place: the parser saw exactly its option lines, and each option once.
        Assert.Equal(ExpectedTokens(file), result.Tokens.Skip(2).Select(t => t.Value));
        var options = result.CommandResult.Children.OfType<OptionResult>().Where(o => !o.Implicit).ToList();
        Assert.Equal(ExpectedTokens(file).Length / 2, options.Count);
    }

    [Fact]
    public void Key_values_of_each_stage_arrive()
    {
        var judge = Parse("judge.rsp");
        Assert.Equal(1, judge.GetValue<int>("--seed"));
        Assert.Equal(4000, judge.GetValue<int>("--scenes"));
        Assert.Equal(4, judge.GetValue<int>("--epochs"));

        var vqgan1 = Parse("vqgan-1.rsp");
        Assert.Equal(2000L, vqgan1.GetValue<long?>("--steps"));
        Assert.Equal(1, vqgan1.GetValue<int>("--seed"));
        Assert.Equal(1e-3, vqgan1.GetValue<double>("--lr"));
        Assert.Equal(0.2, vqgan1.GetValue<double?>("--whole-fraction"));
        Assert.Equal(250, vqgan1.GetValue<int>("--eval-every"));

        var vqgan2 = Parse("vqgan-2.rsp");
        Assert.Equal(1200L, vqgan2.GetValue<long?>("--steps"));
        Assert.Equal(2, vqgan2.GetValue<int>("--seed"));
        Assert.Equal(7e-4, vqgan2.GetValue<double>("--lr"));
        Assert.Equal("runs/vqgan-b/clipart-vqgan.safetensors", vqgan2.GetValue<string>("--out"));   // stage 3 and the CLIP recipes read it

        var vqgan3 = Parse("vqgan-3-decoder.rsp");
        Assert.True(vqgan3.GetValue<bool>("--decoder-only"));   // the codes stay stage 2's
        Assert.Equal(2000L, vqgan3.GetValue<long?>("--steps"));
        Assert.Equal(3, vqgan3.GetValue<int>("--seed"));
        Assert.Equal(5e-4, vqgan3.GetValue<double>("--lr"));
        Assert.Equal(0, vqgan3.GetValue<int?>("--crop"));   // whole scenes throughout
        Assert.Equal("data/clipart-vqgan.safetensors", vqgan3.GetValue<string>("--out"));   // the default, left out so --out FILE can follow

        var biggan = Parse("biggan-1-clipart.rsp");
        Assert.Equal(17000L, biggan.GetValue<long?>("--steps"));
        Assert.Equal(2, biggan.GetValue<int>("--threads"));   // a run repeats bit for bit with one thread count only
        Assert.Equal(0.3, biggan.GetValue<double>("--kind-classifier"));
        Assert.Equal(4100L, biggan.GetValue<long>("--kind-start"));
        Assert.Equal(100L, biggan.GetValue<long>("--kind-pretrain"));
        Assert.Equal(20, biggan.GetValue<double>("--scene-tie"));
        Assert.Equal(20, biggan.GetValue<double>("--redraw-tie"));
        Assert.Equal(4000L, biggan.GetValue<long>("--redraw-tie-start"));
        Assert.Equal(100, biggan.GetValue<double>("--place-tie"));
        Assert.Equal(4000L, biggan.GetValue<long>("--place-tie-start"));
        Assert.Equal("data/clipart-clip.safetensors", biggan.GetValue<string?>("--clip-discriminator"));
        Assert.True(File.Exists(Path.Combine(TestSetup.RepoRoot, "data", "clipart-clip.safetensors")), "the BigGAN recipe reads the shipped CLIP");
        Assert.Equal(0.5, biggan.GetValue<double>("--clip-discriminator-weight"));
        Assert.Equal(2900L, biggan.GetValue<long>("--clip-discriminator-start"));
        Assert.Equal(16, biggan.GetValue<int>("--batch"));
        Assert.Equal(16, biggan.GetValue<int>("--g-channels"));
        Assert.Equal(32, biggan.GetValue<int>("--resolution"));   // G at 32x32, D on the scenes area-averaged
        Assert.Equal("stylegan2", biggan.GetValue<string>("--discriminator"));
        Assert.Equal("logistic", biggan.GetValue<string>("--loss"));
        Assert.Equal(0.05, biggan.GetValue<double>("--r1"));
        Assert.True(biggan.GetValue<bool>("--factorised-classes"));
        Assert.Equal(0.995, biggan.GetValue<double>("--ema-decay"));
        Assert.Equal("data/clipart-biggan.safetensors", biggan.GetValue<string>("--out"));   // the default

        var stylegan = Parse("stylegan-1-clipart.rsp");
        Assert.Equal(16, stylegan.GetValue<int>("--batch"));
        Assert.Equal(0.05, stylegan.GetValue<double>("--r1"));
        Assert.Equal(16, stylegan.GetValue<int>("--d-reg-every"));
        Assert.Equal(0.9, stylegan.GetValue<double>("--mixing"));
        Assert.Equal("128,128,64,32,16", stylegan.GetValue<string>("--g-channels"));
        Assert.Equal("data/clipart-stylegan.safetensors", stylegan.GetValue<string>("--out"));   // the default

        var audioclip = Parse("audioclip-1-clipart.rsp");
        Assert.Equal(2000L, audioclip.GetValue<long?>("--steps"));
        Assert.Equal(64, audioclip.GetValue<int>("--batch"));
        Assert.Equal(6000, audioclip.GetValue<int>("--clips"));
        Assert.Equal(250L, audioclip.GetValue<long>("--frozen-bn-steps"));
        Assert.Equal("32,64,128,256", audioclip.GetValue<string>("--outputs"));
        Assert.True(audioclip.GetValue<bool>("--wide-voices"));   // 77 training voices (issue 23)
        Assert.Equal(6.0, audioclip.GetValue<double>("--aug-gain-db"));
        Assert.Equal(0.05, audioclip.GetValue<double>("--aug-freq-warp"));
        Assert.Equal(0, audioclip.GetValue<int>("--aug-time-masks"));   // the default: the trial with masks (t1, docs/research/clipart-audio-log.md) learnt far slower
        Assert.Null(audioclip.GetValue<long?>("--frozen-fbsp-steps"));   // the Fourier basis frozen (and cached) throughout
        Assert.Equal("data/clipart-audioclip.safetensors", audioclip.GetValue<string>("--out"));   // the default

        var clip1 = Parse("clip-1-contrastive.rsp");
        Assert.Equal(10000L, clip1.GetValue<long?>("--steps"));
        Assert.Equal(1, clip1.GetValue<int>("--seed"));
        Assert.Equal(128, clip1.GetValue<int>("--batch"));
        Assert.Equal(0, clip1.GetValue<int>("--guided-negatives"));

        var clip2 = Parse("clip-2-guided.rsp");
        Assert.Equal(1100L, clip2.GetValue<long?>("--steps"));
        Assert.Equal(12, clip2.GetValue<int>("--seed"));
        Assert.Equal(48, clip2.GetValue<int>("--guided-negatives"));
        Assert.Equal(4, clip2.GetValue<int>("--kind-variants"));
        Assert.Equal(1.0, clip2.GetValue<double>("--guided-weight"));   // the default: g2 did not set it

        var clip3 = Parse("clip-3-guided.rsp");
        Assert.Equal(900L, clip3.GetValue<long?>("--steps"));
        Assert.Equal(13, clip3.GetValue<int>("--seed"));
        Assert.Equal(1.5e-4, clip3.GetValue<double>("--lr"));
        Assert.Equal(4.0, clip3.GetValue<double>("--guided-weight"));
        Assert.Equal("data/clipart-clip.safetensors", clip3.GetValue<string>("--out"));      // likewise
    }

    [Fact]
    public void Each_stage_starts_from_the_previous_stage_s_export()
    {
        // Paths inside a response file are plain tokens: like the --run folders, they are read relative to the
        // folder the command runs in (the repository root), not to the recipe file.
        var vqgan1 = Parse("vqgan-1.rsp");
        var vqgan1Best = Path.Combine(vqgan1.GetValue<string>("--run")!, "best", Path.GetFileName(vqgan1.GetValue<string>("--out")!));
        Assert.Equal(vqgan1Best.Replace('\\', '/'), Parse("vqgan-2.rsp").GetValue<string>("--init-from"));
        var vqgan2Out = Parse("vqgan-2.rsp").GetValue<string>("--out");
        Assert.Equal(vqgan2Out, Parse("vqgan-3-decoder.rsp").GetValue<string>("--init-from"));
        // The CLIP's guided negatives are drawn by stage 2's VQGAN, as they were when the shipped CLIP was trained.
        Assert.Equal(vqgan2Out, Parse("clip-2-guided.rsp").GetValue<string>("--guided-vqgan"));
        Assert.Equal(vqgan2Out, Parse("clip-3-guided.rsp").GetValue<string>("--guided-vqgan"));
        Assert.Equal(Parse("clip-1-contrastive.rsp").GetValue<string>("--out"), Parse("clip-2-guided.rsp").GetValue<string>("--init"));
        Assert.Equal(Parse("clip-2-guided.rsp").GetValue<string>("--out"), Parse("clip-3-guided.rsp").GetValue<string>("--init"));

        // The transformer: its GPT reads the shipped VQGAN's codes (the recipe starts from the file in data/, which the
        // export leaves as it is; stage 3 kept stage 2's codes), one stage, on canonical one-object scenes in the middle.
        var gpt = Parse("transformer-1-gpt.rsp");
        Assert.Equal(Parse("vqgan-3-decoder.rsp").GetValue<string>("--out"), gpt.GetValue<string>("--first-stage"));
        Assert.Equal(1.0, gpt.GetValue<double>("--one-object-big-share"));   // every scene one big object: what made the kinds learnable
        Assert.Equal("middle", gpt.GetValue<string>("--one-object-place"));
        Assert.True(gpt.GetValue<bool>("--one-object-canonical"));
    }

    [Fact]
    public void Options_may_be_added_after_a_recipe_but_not_repeated()
    {
        // An option the file does not set can follow it: vqgan-clip train clip @recipes/clip-1-contrastive.rsp --print-every 100
        var added = Parse("clip-1-contrastive.rsp", "--print-every", "100");
        Assert.Empty(added.Errors);
        Assert.Equal(100, added.GetValue<int>("--print-every"));
        Assert.Equal(10000L, added.GetValue<long?>("--steps"));

        // One the file sets cannot be given again (this System.CommandLine rejects a second value rather than
        // letting the last one win): to change a stage's setting, copy its file.
        var repeated = Parse("clip-1-contrastive.rsp", "--threads", "1");
        Assert.Contains(repeated.Errors, e => e.Message.Contains("--threads"));
    }

    [Fact]
    public void Comments_must_be_lines_of_their_own()
    {
        // What this System.CommandLine does with '#': a line starting with it is skipped, but after an option it is
        // an ordinary token, so a trailing comment is a parse error (which is why the recipes never have one).
        var path = Path.Combine(Path.GetTempPath(), $"recipe-{Guid.NewGuid():N}.rsp");
        try
        {
            File.WriteAllLines(path, ["# a comment line", "   # an indented one", "", "--steps 5"]);
            var root = new RootCommand("test") { TrainCommand.Create() };
            var ok = root.Parse(["train", "vqgan", "@" + path]);
            Assert.Empty(ok.Errors);
            Assert.Equal(5L, ok.GetValue<long?>("--steps"));

            File.WriteAllLines(path, ["--steps 5   # trailing"]);
            Assert.NotEmpty(root.Parse(["train", "vqgan", "@" + path]).Errors);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
