using System.Globalization;
using System.Text;
using VqganClip.Models.Vqgan;

namespace VqganClip.Models.Transformer;

/// <summary>Writing a Net2NetTransformer configuration as the taming YAML that <see cref="FromYaml"/> and taming's main.py read.</summary>
public sealed partial record TransformerConfig
{
    /// <summary>
    /// This configuration as a taming <c>*-project.yaml</c> (model section only). The first stage and a separate
    /// conditioning VQGAN must be VQModels (what <see cref="VqganConfig.ToYaml"/> writes).
    /// </summary>
    public string ToYaml(double baseLearningRate = 4.5e-6)
    {
        Validate();
        static string N(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        var g = Gpt;
        var sb = new StringBuilder();
        sb.Append("model:\n");
        sb.Append($"  base_learning_rate: {N(baseLearningRate)}\n");
        sb.Append($"  target: {Net2NetTarget}\n");
        sb.Append("  params:\n");
        sb.Append($"    first_stage_key: {FirstStageKey}\n");
        sb.Append($"    cond_stage_key: {CondStageKey}\n");
        if (IsUnconditional)
        {
            sb.Append("    unconditional: true\n");
            sb.Append($"    sos_token: {SosToken}\n");
        }
        if (DownsampleCondSize != -1) sb.Append($"    downsample_cond_size: {DownsampleCondSize}\n");
        if (PKeep != 1.0) sb.Append($"    pkeep: {N(PKeep)}\n");
        sb.Append("    transformer_config:\n");
        sb.Append($"      target: {GptConfig.GptTarget}\n");
        sb.Append("      params:\n");
        sb.Append($"        vocab_size: {g.VocabSize}\n");
        sb.Append($"        block_size: {g.BlockSize}\n");
        sb.Append($"        n_layer: {g.NLayer}\n");
        sb.Append($"        n_head: {g.NHead}\n");
        sb.Append($"        n_embd: {g.NEmbd}\n");
        if (g.NUnmasked != 0) sb.Append($"        n_unmasked: {g.NUnmasked}\n");
        if (g.EmbdPdrop != 0) sb.Append($"        embd_pdrop: {N(g.EmbdPdrop)}\n");
        if (g.ResidPdrop != 0) sb.Append($"        resid_pdrop: {N(g.ResidPdrop)}\n");
        if (g.AttnPdrop != 0) sb.Append($"        attn_pdrop: {N(g.AttnPdrop)}\n");
        sb.Append("    first_stage_config:\n");
        AppendModel(sb, FirstStage);
        switch (Conditioning.Kind)
        {
            case ConditioningKind.Unconditional:
                sb.Append($"    cond_stage_config: {UnconditionalMarker}\n");
                break;
            case ConditioningKind.FirstStage:
                sb.Append($"    cond_stage_config: {VqganConditioningStage.FirstStageMarker}\n");
                break;
            case ConditioningKind.ClassLabel:
                sb.Append("    cond_stage_config:\n");
                sb.Append($"      target: {Labelator.UpstreamTarget}\n");
                sb.Append("      params:\n");
                sb.Append($"        n_classes: {Conditioning.NClasses}\n");
                break;
            case ConditioningKind.Coord:
                sb.Append("    cond_stage_config:\n");
                sb.Append($"      target: {CoordStage.UpstreamTarget}\n");
                sb.Append("      params:\n");
                sb.Append($"        n_embed: {Conditioning.CoordNEmbed}\n");
                sb.Append($"        down_factor: {Conditioning.CoordDownFactor}\n");
                break;
            case ConditioningKind.Caption:
                sb.Append("    cond_stage_config:\n");
                sb.Append($"      target: {CaptionConditioning.Target}\n");
                sb.Append("      params:\n");
                sb.Append($"        context_length: {Conditioning.CaptionContextLength}\n");
                sb.Append($"        offset: {Conditioning.CaptionOffset}\n");
                if (Conditioning.CaptionPlacement == CaptionPlacement.Middle) sb.Append($"        drawn_at: {ConditioningConfig.DrawnAtMiddle}\n");
                break;
            case ConditioningKind.Vqgan:
                sb.Append("    cond_stage_config:\n");
                AppendModel(sb, Conditioning.Vqgan!);
                break;
        }
        if (PermuterTarget != IdentityPermuter.UpstreamTarget)
            sb.Append($"    permuter_config:\n      target: {PermuterTarget}\n");
        return sb.ToString();
    }

    /// <summary>A VQModel's <c>{target, params}</c> indented under a Net2Net key (VqganConfig.ToYaml's lines without model: and base_learning_rate).</summary>
    private static void AppendModel(StringBuilder sb, VqganConfig config)
    {
        foreach (var line in config.ToYaml().Split('\n'))
        {
            if (line.Length == 0 || line == "model:" || line.TrimStart().StartsWith("base_learning_rate:", StringComparison.Ordinal)) continue;
            // VqganConfig.ToYaml indents model's children by 2; here they sit under a key indented by 4
            sb.Append("    ").Append(line).Append('\n');
        }
    }
}
