using System.Text;
using TorchSharp;
using VqganClip.Notebooks.Html;

namespace VqganClip.Notebooks.Views;

/// <summary>
/// A network at a glance: its configuration, parameter count (and how many train), device and dtype, and
/// the parameter count of each top-level part. Made from any TorchSharp module; the config is read from
/// the argument or from the module's public <c>Config</c> property.
/// </summary>
public sealed class ModelSummary
{
    public ModelSummary(string name, IReadOnlyList<(string Key, string Value)> config, long parameters, long trainable,
                        string device, string dtype, IReadOnlyList<(string Part, long Parameters)> parts)
    {
        Name = name;
        Config = config;
        Parameters = parameters;
        Trainable = trainable;
        Device = device;
        DType = dtype;
        Parts = parts;
    }

    public string Name { get; }
    public IReadOnlyList<(string Key, string Value)> Config { get; }
    public long Parameters { get; }
    public long Trainable { get; }
    public string Device { get; }
    public string DType { get; }
    public IReadOnlyList<(string Part, long Parameters)> Parts { get; }

    public static ModelSummary Of(torch.nn.Module module, object? config = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        config ??= module.GetType().GetProperty("Config")?.GetValue(module);
        long total = 0, trainable = 0;
        var devices = new SortedSet<string>();
        var dtypes = new SortedSet<string>();
        foreach (var p in module.parameters())
        {
            total += p.numel();
            if (p.requires_grad) trainable += p.numel();
            devices.Add(p.device.ToString());
            dtypes.Add(p.dtype.ToString());
        }
        var parts = module.named_children()
            .Select(c => (c.name, c.module.parameters().Sum(p => p.numel())))
            .ToList();
        return new ModelSummary(name ?? module.GetType().Name, ConfigProperties.Of(config), total, trainable,
                                devices.Count == 0 ? "-" : string.Join(", ", devices),
                                dtypes.Count == 0 ? "-" : string.Join(", ", dtypes), parts);
    }

    public string ToHtmlFragment()
    {
        var sb = new StringBuilder();
        sb.Append($"<div class=\"vqc-title\">{HtmlText.Encode(Name)}</div>");
        sb.Append($"<div class=\"vqc-caption\">{HtmlText.Encode(Headline())}</div>");
        sb.Append("<div class=\"vqc-row\">");
        if (Config.Count > 0)
            sb.Append("<div><div class=\"vqc-title\">Config</div>").Append(HtmlTable.KeyValues(Config)).Append("</div>");
        if (Parts.Count > 0)
            sb.Append("<div><div class=\"vqc-title\">Parts</div>")
              .Append(HtmlTable.Render(["part", "parameters", "share"],
                  Parts.Select(p => (IReadOnlyList<string>)[p.Part, HtmlText.Count(p.Parameters), Share(p.Parameters)]), new HashSet<int> { 1, 2 }))
              .Append("</div>");
        sb.Append("</div>");
        return sb.ToString();
    }

    public string ToHtml() => Styles.Open() + ToHtmlFragment() + Styles.Close;

    public string Headline() =>
        $"{HtmlText.Count(Parameters)} parameters ({HtmlText.Count(Trainable)} trainable), device {Device}, dtype {DType}";

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{Name}: {Headline()}");
        foreach (var (k, v) in Config) sb.AppendLine($"  {k} = {v}");
        if (Parts.Count > 0)
            sb.AppendLine(HtmlTable.PlainText(["part", "parameters"], Parts.Select(p => (IReadOnlyList<string>)[p.Part, HtmlText.Count(p.Parameters)])));
        return sb.ToString().TrimEnd();
    }

    private string Share(long n) => Parameters == 0 ? "-" : (100.0 * n / Parameters).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%";
}
