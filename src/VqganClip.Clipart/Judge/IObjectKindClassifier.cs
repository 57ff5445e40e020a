namespace VqganClip.Clipart.Judge;

/// <summary>Tells the object kind from an <see cref="ObjectCrop"/>.</summary>
public interface IObjectKindClassifier
{
    /// <summary>Probabilities over <see cref="ObjectKind"/> (index = (int)kind) for each crop of [2,32,32] planar floats.</summary>
    float[][] Probabilities(IReadOnlyList<float[]> crops);
}
