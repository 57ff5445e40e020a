using System.Globalization;
using VqganClip.Models.Clip;
using VqganClip.Models.Transformer;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Prompts;

/// <summary>
/// CLIP's zero-shot choice of a class for a class-conditional generator (a taming cIN transformer, a BigGAN): every
/// class name, written with a template, goes once through CLIP's text tower; a class's score is the prompts' loss of
/// that embedding, the loop's weighted spherical distance (text prompts compare text with text, image prompts image
/// with text, negative prompts push away; noise prompts say nothing of a class and are left out). Holds the names'
/// embeddings, so ranking again for other prompts costs no text encoding.
/// </summary>
public sealed class ClassZeroShot : IDisposable
{
    /// <summary>CLIP's ImageNet template, how a class name is written by default.</summary>
    public const string DefaultTemplate = "a photo of a {0}.";

    /// <summary>Texts encoded together.</summary>
    private const int Batch = 64;

    private readonly Tensor _embeddings;
    private bool _disposed;

    /// <param name="clip">The CLIP whose text tower embeds the names (not owned).</param>
    /// <param name="names">The class names, line i naming class i.</param>
    /// <param name="template">How a name is written for CLIP ({0}: the name).</param>
    /// <exception cref="ArgumentException">A template without {0}.</exception>
    public ClassZeroShot(ClipModel clip, ClassNames names, string template = DefaultTemplate)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentNullException.ThrowIfNull(names);
        if (string.IsNullOrWhiteSpace(template) || !template.Contains("{0}", StringComparison.Ordinal))
            throw new ArgumentException($"The class template must contain {{0}} where the class name goes; got '{template}'.", nameof(template));
        Names = names;
        Template = template;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var texts = names.Names.Select(n => string.Format(CultureInfo.InvariantCulture, template, n)).ToList();
        var parts = new List<Tensor>();
        for (int start = 0; start < texts.Count; start += Batch)
        {
            var chunk = texts.Skip(start).Take(Batch).ToList();
            var tokens = ClipTokenizer.Default.Tokenize(chunk, clip.ContextLength, truncate: true);
            parts.Add(nn.functional.normalize(clip.EncodeText(tokens.to(clip.Device)).to_type(ScalarType.Float32), dim: 1));
        }
        _embeddings = cat(parts, 0).DetachFromDisposeScope();
    }

    public ClassNames Names { get; }

    public string Template { get; }

    /// <summary>The normalised text embeddings of the names [C, d].</summary>
    public Tensor Embeddings
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _embeddings;
        }
    }

    /// <summary>Every class scored against <paramref name="prompts"/>, best (lowest loss) first; ties by id.</summary>
    /// <exception cref="ArgumentException">No text or image prompt among <paramref name="prompts"/>.</exception>
    public IReadOnlyList<ClassScore> Rank(IEnumerable<Prompt> prompts)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(prompts);
        var guiding = prompts.Where(p => p.Spec.Source != PromptSource.Noise).ToList();
        if (guiding.Count == 0)
            throw new ArgumentException("CLIP chooses the class by the text and image prompts, and there are none (noise prompts say nothing of a class): name the class instead.");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var total = zeros(new long[] { _embeddings.shape[0] }, ScalarType.Float32, _embeddings.device);
        foreach (var p in guiding)
        {
            var target = p.Embedding.to(_embeddings.device);
            var distances = Prompt.SquaredSphericalDistance(_embeddings.unsqueeze(1), target.unsqueeze(0));   // [C, rows]
            total = total + distances.mean(new long[] { 1 }) * p.Weight;
        }
        var values = total.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return values.Select((loss, id) => new ClassScore(id, Names[id], loss)).OrderBy(c => c.Loss).ThenBy(c => c.ClassId).ToList();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _embeddings.Dispose();
    }
}
