using SkiaSharp;

namespace VqganClip.Models.Images;

/// <summary>
/// Finds a typeface for grid labels. SkiaSharp.NativeAssets.Linux.NoDependencies is built without fontconfig, so
/// <see cref="SKTypeface.Default"/> has no glyphs on Linux; we then load a font file directly: the file named by
/// the VQGAN_CLIP_FONT environment variable, else a common sans-serif (DejaVu, Liberation, Noto, Arial, Segoe UI,
/// Helvetica) from the usual system folders, else any .ttf/.otf found there. Null when the machine has no font.
/// </summary>
public static class LabelTypeface
{
    /// <summary>Environment variable naming a .ttf/.otf file to use for labels.</summary>
    public const string FontVariable = "VQGAN_CLIP_FONT";

    private static readonly Lazy<SKTypeface?> LazyTypeface = new(Find);

    /// <summary>The typeface used for labels, or null if none could be found (labels are then left blank).</summary>
    public static SKTypeface? Typeface => LazyTypeface.Value;

    private static readonly string[] PreferredFiles =
    [
        "DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf",
        "arial.ttf", "Arial.ttf", "segoeui.ttf", "Helvetica.ttc", "HelveticaNeue.ttc",
    ];

    private static IEnumerable<string> FontFolders()
    {
        yield return "/usr/share/fonts";
        yield return "/usr/local/share/fonts";
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            yield return Path.Combine(home, ".fonts");
            yield return Path.Combine(home, ".local", "share", "fonts");
        }
        var windows = Environment.GetFolderPath(Environment.SpecialFolder.Fonts);
        if (!string.IsNullOrEmpty(windows)) yield return windows;
        yield return "/System/Library/Fonts";
        yield return "/Library/Fonts";
    }

    private static SKTypeface? Find()
    {
        var fromVariable = Environment.GetEnvironmentVariable(FontVariable);
        if (!string.IsNullOrWhiteSpace(fromVariable) && Usable(SKTypeface.FromFile(fromVariable)) is { } chosen)
            return chosen;
        if (Usable(SKTypeface.Default) is { } builtIn) return builtIn;

        var files = new List<string>();
        foreach (var folder in FontFolders().Where(Directory.Exists))
        {
            try
            {
                files.AddRange(Directory.EnumerateFiles(folder, "*.*", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4, IgnoreInaccessible = true })
                    .Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".ttc", StringComparison.OrdinalIgnoreCase))
                    .Take(5000));
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        foreach (var name in PreferredFiles)
            foreach (var file in files.Where(f => Path.GetFileName(f) == name))
                if (Usable(SKTypeface.FromFile(file)) is { } preferred) return preferred;
        foreach (var file in files.Order(StringComparer.Ordinal))
            if (Usable(SKTypeface.FromFile(file)) is { } any) return any;
        return null;
    }

    private static SKTypeface? Usable(SKTypeface? typeface)
    {
        if (typeface is null) return null;
        if (typeface.GlyphCount > 0)
        {
            using var font = new SKFont(typeface, 12);
            if (font.GetGlyph('a') != 0) return typeface;
        }
        if (!ReferenceEquals(typeface, SKTypeface.Default)) typeface.Dispose();
        return null;
    }
}
