using VqganClip.Guidance.ClipartWorld;
using static TorchSharp.torch;

namespace VqganClip.Guidance.Training;

/// <summary>
/// Where one object of each scene is drawn, as antialiased coverage: the scene is rendered again with that object in
/// another colour, and the pixels that change are the object's (scaled so its core is 1). Shared by the hard negatives
/// that take an object out of its scene (<see cref="BlobNegatives"/>, <see cref="CopyNegatives"/>).
/// </summary>
internal static class ObjectSilhouettes
{
    /// <summary>[M, 1, H, W] in [0, 1] for object objects[k] of specs[scenes[k]], whose drawings [M, 3, H, W] the caller has.</summary>
    public static Tensor Of(IReadOnlyList<SceneSpec> specs, Tensor drawings, int[] scenes, int[] objects, int renderThreads)
    {
        if (scenes.Length != objects.Length) throw new ArgumentException("One object index per chosen scene.");
        if (scenes.Length == 0) throw new ArgumentException("No scenes chosen.", nameof(scenes));
        if (drawings.shape[0] != scenes.Length) throw new ArgumentException($"{drawings.shape[0]} drawings for {scenes.Length} chosen scenes.", nameof(drawings));
        using var scope = NewDisposeScope();
        var recoloured = new SceneSpec[scenes.Length];
        for (int k = 0; k < scenes.Length; k++)
        {
            var o = specs[scenes[k]].Objects[objects[k]];
            recoloured[k] = With(specs[scenes[k]], objects[k], o with { Color = o.Color == ClipartColor.Black ? ClipartColor.White : ClipartColor.Black });
        }
        var silhouette = (drawings - ClipartBatches.Render(recoloured, renderThreads)).abs().amax([1], keepdim: true);
        return (silhouette / silhouette.amax([1, 2, 3], keepdim: true).clamp_min(1e-6)).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>The scene with object <paramref name="which"/> replaced.</summary>
    public static SceneSpec With(SceneSpec spec, int which, SceneObject replacement)
    {
        var objects = spec.Objects.ToArray();
        objects[which] = replacement;
        return new SceneSpec(objects, spec.Relation, spec.Background);
    }
}
