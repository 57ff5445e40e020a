using VqganClip.Models.Images;
using VqganClip.Models.Onnx;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Losses;

/// <summary>
/// The perceptual terms a run's <see cref="GuidanceOptions"/> ask for (<see cref="GuidanceOptions.StyleImage"/>,
/// <see cref="GuidanceOptions.FeatureImage"/>), on one ResNet18 shared by both. The run owns this object (the
/// network) and the terms; the options keep only file names, so a saved run rebuilds the same terms on resume.
/// </summary>
internal sealed class PerceptualTerms : IDisposable
{
    private PerceptualTerms(OnnxResNet network, IReadOnlyList<IRegularizer> terms)
    {
        Network = network;
        Terms = terms;
    }

    public OnnxResNet Network { get; }
    public IReadOnlyList<IRegularizer> Terms { get; }

    /// <summary>Null when the options ask for no perceptual term (nothing is loaded then).</summary>
    public static PerceptualTerms? Create(GuidanceOptions options)
    {
        bool style = options.StyleImage is not null && options.StyleWeight > 0;
        bool feature = options.FeatureImage is not null && options.FeatureWeight > 0;
        if (!style && !feature) return null;
        // Pictures first: a missing one fails before the network is read.
        using var scope = NewDisposeScope();
        var stylePicture = style ? LoadPicture(options.StyleImage!, "style picture (StyleImage)") : null;
        var featurePicture = feature ? LoadPicture(options.FeatureImage!, "feature picture (FeatureImage)") : null;
        var network = OnnxResNet.Load(options.PerceptualModel);
        var terms = new List<IRegularizer>();
        try
        {
            if (stylePicture is not null) terms.Add(new GramStyleLoss(network, stylePicture, weight: options.StyleWeight));
            if (featurePicture is not null) terms.Add(new FeatureDistanceLoss(network, featurePicture, weight: options.FeatureWeight));
            return new PerceptualTerms(network, terms);
        }
        catch
        {
            foreach (var t in terms) t.Dispose();
            network.Dispose();
            throw;
        }
    }

    private static Tensor LoadPicture(string path, string role)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The {role} '{path}' does not exist.", path);
        return ImageIO.Load(path);
    }

    public void Dispose() => Network.Dispose();
}
