namespace VqganClip.Clipart.Judge;

/// <summary>
/// Where a generator's one-object pictures put their object and what they put it on, counted over many pictures: the
/// background the judge reads from each picture's border (<see cref="ColorAnalysis"/>) and in which third of the
/// picture the centre of the named colour's region lies, across (left / middle / right) and down (top / middle /
/// bottom), with the judge's own limits (<see cref="JudgeSettings.SideLimit"/>: "on the left" is x below it). A class
/// accuracy can be high while every sample of a class is drawn the same way; these counts show a generator that has
/// dropped the world's backgrounds or positions (the world draws its five backgrounds and the three columns and rows
/// evenly enough for each to hold a fifth to a half of the scenes).
/// </summary>
public sealed class SceneCoverage
{
    private readonly JudgeSettings _settings;
    private readonly int[] _backgrounds = new int[Vocabulary.Backgrounds.Length];
    private readonly int[] _columns = new int[3];
    private readonly int[] _rows = new int[3];

    public SceneCoverage(JudgeSettings? settings = null) => _settings = settings ?? JudgeSettings.Default;

    /// <summary>Pictures counted.</summary>
    public int Count { get; private set; }

    /// <summary>Pictures in which the colour was found (only these have a position).</summary>
    public int Located { get; private set; }

    /// <summary>Pictures per background, in <see cref="Vocabulary.Backgrounds"/> order.</summary>
    public IReadOnlyList<int> Backgrounds => _backgrounds;

    /// <summary>Located pictures whose object's centre is left / middle / right.</summary>
    public IReadOnlyList<int> Columns => _columns;

    /// <summary>Located pictures whose object's centre is top / middle / bottom.</summary>
    public IReadOnlyList<int> Rows => _rows;

    /// <summary>Counts one picture (planar RGB in [0, 1], 64x64) whose object should be <paramref name="colour"/>.</summary>
    public void Add(float[] planarRgb, ClipartColor colour)
    {
        ArgumentNullException.ThrowIfNull(planarRgb);
        var analysis = ColorAnalysis.Analyze(planarRgb, null, _settings);
        Count++;
        _backgrounds[Array.IndexOf(Vocabulary.Backgrounds, analysis.Background)]++;
        var region = analysis.Region(colour);
        if (region.CorePixelCount == 0) return;
        Located++;
        _columns[Third(region.CentroidX)]++;
        _rows[Third(region.CentroidY)]++;
    }

    private int Third(float centre) => centre < _settings.SideLimit ? 0 : centre > 1 - _settings.SideLimit ? 2 : 1;

    /// <summary>How many of the five backgrounds hold at least <paramref name="share"/> of the pictures.</summary>
    public int BackgroundsAbove(double share = 0.05) => _backgrounds.Count(n => Count > 0 && n >= share * Count);

    /// <summary>"backgrounds white 40%, sky 30%, night 0%, grass 0%, sand 30%; across left/middle/right 10/40/50%; down top/middle/bottom 15/70/15%".</summary>
    public string Describe()
    {
        static string Pct(int n, int of) => of == 0 ? "-" : $"{100.0 * n / of:0}";
        var bgs = string.Join(", ", Vocabulary.Backgrounds.Select((b, i) => $"{b.ToString().ToLowerInvariant()} {Pct(_backgrounds[i], Count)}%"));
        return $"backgrounds {bgs}; across left/middle/right {string.Join("/", _columns.Select(n => Pct(n, Located)))}%; " +
               $"down top/middle/bottom {string.Join("/", _rows.Select(n => Pct(n, Located)))}%";
    }
}
