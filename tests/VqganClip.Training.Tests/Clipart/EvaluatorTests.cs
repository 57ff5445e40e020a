using VqganClip.Clipart;
using VqganClip.Clipart.Eval;
using static TorchSharp.torch;

namespace VqganClip.Training.Tests.Clipart;

public class EvaluatorTests
{
    [Fact]
    public void Fixed_prompts_cover_the_grammar()
    {
        var parsed = EvalPrompts.Fixed.Select(CaptionParser.Parse).ToList();
        Assert.True(parsed.Count >= 40);
        Assert.Equal(parsed.Count, EvalPrompts.Fixed.Distinct().Count());
        Assert.True(parsed.Count(p => p.Objects.Count == 1 && p.Objects[0].Position is not null && p.Objects[0].Color is not null) >= 15);
        Assert.True(parsed.Count(p => p.Relation is not null) >= 12);
        Assert.True(parsed.Count(p => p.Background is not null) >= 12);
        Assert.Equal(Vocabulary.Kinds.Length, parsed.SelectMany(p => p.Objects).Select(o => o.Kind).Distinct().Count());
        Assert.Equal(Vocabulary.Colors.Length, parsed.SelectMany(p => p.Objects).Select(o => o.Color).Distinct().Count());
        Assert.Equal(Vocabulary.Backgrounds.Length, parsed.Where(p => p.Background is not null).Select(p => p.Background).Distinct().Count());
        Assert.Equal(Vocabulary.Relations.Length, parsed.Where(p => p.Relation is not null).Select(p => p.Relation).Distinct().Count());
    }

    [Fact]
    public void The_single_object_set_is_every_fixed_prompt_with_one_object_in_order()
    {
        Assert.Equal(32, EvalPrompts.SingleObject.Count);
        Assert.All(EvalPrompts.SingleObject, p => Assert.Single(CaptionParser.Parse(p).Objects));
        Assert.Equal(EvalPrompts.Fixed.Where(EvalPrompts.SingleObject.Contains), EvalPrompts.SingleObject);
        Assert.Same(EvalPrompts.Fixed, EvalPrompts.Named("all"));
        Assert.Same(EvalPrompts.SingleObject, EvalPrompts.Named(" Single "));
        Assert.Contains("not one of: all, single", Assert.Throws<ArgumentException>(() => EvalPrompts.Named("singles")).Message);
    }

    [Fact]
    public void Reference_renders_satisfy_every_fixed_prompt()
    {
        var report = Evaluator.Run(Evaluator.RenderReference, EvalPrompts.Fixed, ClipartTestData.Judge);
        Assert.True(report.KindsChecked);
        Assert.Equal(EvalPrompts.Fixed.Count, report.Count);
        Assert.All(report.Items, i => Assert.True(i.Satisfied, $"{i.Prompt}: {i.Verdict.Summary}"));
        Assert.Equal(1.0, report.SatisfiedFraction);
        Assert.Contains($"Satisfied: {report.Count}/{report.Count}", report.ToMarkdown());
        Assert.Equal([(1, 32, 32), (2, 16, 16)], report.ByObjectCount);
        Assert.Equal(48, report.SatisfiedButKindCount);
        Assert.Contains("one object 32/32, two objects 16/16; every check but the kind 48/48", report.ToMarkdown());
    }

    [Fact]
    public void The_breakdown_counts_one_and_two_object_prompts_and_the_pictures_wrong_only_in_the_kind()
    {
        // a square drawn for a circle fails the kind alone; a blank picture fails its colour too
        string[] prompts = ["a red circle on the left", "a blue square on the right", "a red star above a blue house"];
        var report = Evaluator.Run(p => p switch
        {
            "a red circle on the left" => Evaluator.RenderReference("a red square on the left"),
            "a blue square on the right" => Evaluator.RenderReference(p),
            _ => ones(3, 64, 64),
        }, prompts, ClipartTestData.Judge);
        Assert.Equal([false, true, false], report.Items.Select(i => i.Satisfied));
        Assert.Equal([(1, 1, 2), (2, 0, 1)], report.ByObjectCount);
        Assert.Equal(2, report.SatisfiedButKindCount);
        Assert.Equal("one object 1/2, two objects 0/1; every check but the kind 2/3", report.Breakdown());
    }

    [Fact]
    public void A_blank_generator_satisfies_nothing_and_the_report_says_why()
    {
        var prompts = EvalPrompts.Fixed.Take(10).ToList();
        var report = Evaluator.Run(_ => ones(3, 128, 128), prompts, ClipartTestData.Judge);
        Assert.Equal(0, report.SatisfiedCount);
        Assert.Equal(0.0, report.SatisfiedFraction);
        Assert.Equal(10, report.FailuresByCheck["colour"]);
        Assert.Equal(prompts, report.Items.Select(i => i.Prompt));
        Assert.Contains("| a red circle on the left | no | red mass 0% < 0.8%", report.ToMarkdown());
    }

    [Fact]
    public void A_NaN_picture_fails_its_prompt_and_the_evaluation_goes_on()
    {
        string[] prompts = ["a red circle on the left", "a blue square on the right"];
        var report = Evaluator.Run(p => p.Contains("red") ? full(3, 64, 64, double.NaN) : Evaluator.RenderReference(p), prompts, ClipartTestData.Judge);
        Assert.Equal(2, report.Count);
        Assert.False(report.Items[0].Satisfied);
        Assert.Contains("NaN", report.Items[0].Verdict.Summary);
        Assert.True(report.Items[1].Satisfied, report.Items[1].Verdict.Summary);
    }

    [Fact]
    public void A_prompt_outside_the_grammar_fails_before_anything_is_generated()
    {
        int calls = 0;
        var e = Assert.Throws<CaptionParseException>(() => Evaluator.Run(p => { calls++; return ones(3, 64, 64); },
            ["a red circle on the left", "a red unicorn on the left"], ClipartTestData.Judge));
        Assert.Equal("unicorn", e.Word);
        Assert.Equal(0, calls);
    }
}
