using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Training.StyleGan2;
using static TorchSharp.torch;

namespace VqganClip.Training.BigGan;

/// <summary>
/// A class-conditional discriminator for the clipart BigGAN built on the toolkit's StyleGAN2 discriminator
/// (rosinality's, which trains a StyleGAN2 to valid clipart scenes on this data where BigGAN-deep's spectral-norm D
/// did not; docs/research/clipart-biggan-log.md): out = final_linear.1(φ(x)) + embed(y)·φ(x) / √C, where φ(x) is
/// the output of <c>final_linear.0</c> (C = the 4×4 stage's width). That is the projection term of Miyato and Koyama
/// (2018), the conditioning BigGAN's D uses; the 1/√C follows StyleGAN2-ADA's conditional epilogue (its
/// <c>(x * cmap).sum(dim=1) * (1 / sqrt(cmap_dim))</c>) so the term starts at the scale of the unconditional one.
/// <c>embed</c> [num_classes, C] ~ N(0, 1), as StyleGAN2-ADA's equalised-learning-rate layers start.
/// </summary>
public sealed class ProjectionStyleGan2Discriminator : nn.Module, IConditionalDiscriminator
{
#pragma warning disable IDE1006
    private readonly StyleGan2Discriminator discriminator;
    private readonly Parameter embed;
    private readonly Parameter? embed_colour;
#pragma warning restore IDE1006
    private readonly int _colours;

    /// <param name="channels">Widths at 4, 8, ... px (index log2(res) − 2); their count sets the input side (5: 64 px).</param>
    /// <param name="colours">
    /// 0: one embedding row per class. Otherwise class id = kind · colours + colour, and the class's embedding is
    /// <c>embed</c>[kind] + <c>embed_colour</c>[colour], each scaled by 1/√2 so the sum starts at the scale of one row.
    /// </param>
    public ProjectionStyleGan2Discriminator(IReadOnlyList<int> channels, int numClasses, int colours = 0) : base(nameof(ProjectionStyleGan2Discriminator))
    {
        if (numClasses <= 0) throw new ArgumentException($"The discriminator needs at least one class (got {numClasses}).");
        if (colours < 0 || (colours > 0 && numClasses % colours != 0)) throw new ArgumentException($"{numClasses} classes do not factor into kinds × {colours} colours.");
        _colours = colours;
        discriminator = new StyleGan2Discriminator(4 << (channels.Count - 1), channels);
        embed = new Parameter(randn(colours > 0 ? numClasses / colours : numClasses, discriminator.FeatureDim));
        register_module("discriminator", discriminator);
        register_parameter("embed", embed);
        if (colours > 0)
        {
            embed_colour = new Parameter(randn(colours, discriminator.FeatureDim));
            register_parameter("embed_colour", embed_colour);
        }
    }

    private Tensor ClassEmbedding(Tensor classIds)
    {
        if (embed_colour is null) return embed.index_select(0, classIds);
        var kinds = classIds.div(_colours, rounding_mode: RoundingMode.floor);
        var colours = classIds.remainder(_colours);
        return (embed.index_select(0, kinds) + embed_colour.index_select(0, colours)) / Math.Sqrt(2);
    }

    /// <summary>Images [B, 3, S, S] in [−1, 1] (S the discriminator's side; B a multiple of 4: the minibatch standard deviation), class ids [B] → logits [B].</summary>
    public Tensor Forward(Tensor images, Tensor classIds)
    {
        using var scope = NewDisposeScope();
        var features = discriminator.Features(images);
        var unconditional = discriminator.Logit(features).squeeze(1);
        var projection = (ClassEmbedding(classIds) * features).sum(1) / Math.Sqrt(discriminator.FeatureDim);
        return (unconditional + projection).MoveToOuterDisposeScope();
    }

    /// <summary>Real and fake batches go through separately: the minibatch standard deviation must not mix them.</summary>
    public bool SeparateBatches => true;
}

/// <summary>A discriminator of (image, class) pairs for <see cref="BigGanTrainer"/>.</summary>
public interface IConditionalDiscriminator
{
    /// <summary>Images [B, 3, 64, 64] in [−1, 1], class ids [B] (int64) → logits [B].</summary>
    Tensor Forward(Tensor images, Tensor classIds);

    /// <summary>True when real and fake images must be scored in separate forwards (batch-dependent layers).</summary>
    bool SeparateBatches { get; }
}
