namespace VqganClip.Models.Vqgan;

/// <summary>
/// Finds the taming YAML config that belongs to a checkpoint, following how they are distributed:
/// <list type="number">
/// <item>the same name with .yaml/.yml (vqgan_imagenet_f16_16384.ckpt + vqgan_imagenet_f16_16384.yaml);</item>
/// <item>a <c>*-project.yaml</c> beside it (the latest by name: taming stamps them with the date);</item>
/// <item>taming's log layout: logs/&lt;run&gt;/checkpoints/last.ckpt with logs/&lt;run&gt;/configs/*-project.yaml,
///   or configs/model.yaml next to ckpts/ (the heibox downloads);</item>
/// <item>a model.yaml or config.yaml beside it.</item>
/// </list>
/// </summary>
public static class VqganConfigDiscovery
{
    /// <summary>The config path found for <paramref name="checkpoint"/>, or null (the configuration is then inferred from the weights).</summary>
    public static string? FindBeside(string checkpoint)
    {
        var full = Path.GetFullPath(checkpoint);
        var dir = Path.GetDirectoryName(full)!;
        var stem = Path.GetFileNameWithoutExtension(full);

        foreach (var ext in new[] { ".yaml", ".yml" })
        {
            var sameStem = Path.Combine(dir, stem + ext);
            if (File.Exists(sameStem)) return sameStem;
        }

        var project = LatestProjectYaml(dir);
        if (project is not null) return project;

        var parent = Path.GetDirectoryName(dir);
        if (parent is not null)
        {
            var configsDir = Path.Combine(parent, "configs");
            project = LatestProjectYaml(configsDir);
            if (project is not null) return project;
            var model = Path.Combine(configsDir, "model.yaml");
            if (File.Exists(model)) return model;
        }

        foreach (var name in new[] { "model.yaml", "config.yaml" })
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string? LatestProjectYaml(string dir) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*project.yaml").OrderBy(p => p, StringComparer.Ordinal).LastOrDefault()
            : null;
}
