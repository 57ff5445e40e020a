using System.Reflection;

namespace VqganClip.Models.Transformer;

/// <summary>
/// The names of a class-conditional transformer's classes (a <see cref="Labelator"/> model): a text file with one
/// name a line, line i (0-based) naming class id i. A model's names are found in <c>&lt;checkpoint&gt;.classes.txt</c>
/// beside it (<see cref="PathBeside"/>); models of ImageNet's 1000 classes (the cIN transformer) get
/// <see cref="ImageNet"/>, the class names of openai/CLIP's <c>notebooks/Prompt_Engineering_for_ImageNet.ipynb</c>
/// (<c>data/imagenet-classes.txt</c>, embedded in this assembly).
/// </summary>
public sealed class ClassNames
{
    /// <summary>The file name ending of a checkpoint's class names: <c>model.ckpt</c> → <c>model.classes.txt</c>.</summary>
    public const string Extension = ".classes.txt";

    /// <summary>The number of ImageNet classes.</summary>
    public const int ImageNetClassCount = 1000;

    private const string ImageNetResource = "VqganClip.Models.Transformer.imagenet-classes.txt";
    private static readonly Lazy<ClassNames> LazyImageNet = new(LoadImageNet);

    private ClassNames(IReadOnlyList<string> names, string source)
    {
        Names = names;
        Source = source;
    }

    /// <summary>The names; index = class id.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Where the names came from (a path, "ImageNet", "code").</summary>
    public string Source { get; }

    /// <summary>Number of classes named.</summary>
    public int Count => Names.Count;

    /// <summary>The name of class <paramref name="classId"/>.</summary>
    public string this[int classId] => Names[classId];

    /// <summary>ImageNet's 1000 class names, as CLIP's zero-shot ImageNet notebook writes them ("tench", "goldfish", "great white shark", ...).</summary>
    public static ClassNames ImageNet => LazyImageNet.Value;

    /// <summary>Names given in code (index = class id).</summary>
    public static ClassNames Of(IEnumerable<string> names, string source = "code") => Parse(names, source);

    /// <summary>Reads a names file (see the class summary).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">An empty line before the last name, or no names at all (the message names the file and line).</exception>
    public static ClassNames Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Class names file '{path}' does not exist.", path);
        return Parse(File.ReadAllLines(path), path);
    }

    /// <summary>One name a line; trailing empty lines are ignored; an empty line between names is an error (it would shift every later id).</summary>
    public static ClassNames Parse(IEnumerable<string> lines, string source)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var names = lines.Select(l => l.Trim()).ToList();
        while (names.Count > 0 && names[^1].Length == 0) names.RemoveAt(names.Count - 1);
        if (names.Count == 0) throw new InvalidDataException($"Class names ({source}) hold no names: write one name a line, line 1 for class 0.");
        int empty = names.FindIndex(n => n.Length == 0);
        if (empty >= 0)
            throw new InvalidDataException(
                $"Class names ({source}): line {empty + 1} is empty. Every line names one class (line 1 is class 0), so an empty line would shift the ids of the classes after it.");
        return new ClassNames(names, source);
    }

    /// <summary>The names file of a checkpoint: same folder and name, <see cref="Extension"/>.</summary>
    public static string PathBeside(string checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var dir = Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;
        return Path.Combine(dir, Path.GetFileNameWithoutExtension(checkpoint) + Extension);
    }

    /// <summary>
    /// The names of a model of <paramref name="nClasses"/> classes loaded from <paramref name="checkpoint"/>: the
    /// file beside it, else <see cref="ImageNet"/> for 1000 classes, else null. A file beside it must name exactly
    /// <paramref name="nClasses"/> classes.
    /// </summary>
    public static ClassNames? For(string checkpoint, int nClasses)
    {
        var beside = PathBeside(checkpoint);
        if (File.Exists(beside))
        {
            var names = Load(beside);
            names.CheckCount(nClasses);
            return names;
        }
        return nClasses == ImageNetClassCount ? ImageNet : null;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> unless these are the names of exactly <paramref name="nClasses"/> classes.</summary>
    public void CheckCount(int nClasses)
    {
        if (Count != nClasses)
            throw new InvalidDataException($"Class names ({Source}) name {Count} classes but the model has {nClasses}: line i must name class i - 1 of the model.");
    }

    private static ClassNames LoadImageNet()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ImageNetResource)
            ?? throw new InvalidOperationException($"The ImageNet class names ({ImageNetResource}) are not embedded in {Assembly.GetExecutingAssembly().GetName().Name}.");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        var names = Parse(lines, "ImageNet");
        names.CheckCount(ImageNetClassCount);
        return names;
    }
}
