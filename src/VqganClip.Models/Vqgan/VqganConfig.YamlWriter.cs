using System.Globalization;
using System.Text;

namespace VqganClip.Models.Vqgan;

/// <summary>
/// Writing a VQModel configuration as taming-transformers' YAML (<c>model.target</c> / <c>model.params</c> with
/// <c>embed_dim</c>, <c>n_embed</c>, <c>ddconfig</c>, <c>lossconfig</c>), the file taming's
/// <c>instantiate_from_config</c> and <see cref="FromYaml"/> (beside it, in VqganConfig.Yaml.cs) read. Written by hand (a fixed, small
/// layout) so the key order matches taming's published configs.
/// </summary>
public sealed partial record VqganConfig
{
    /// <summary>This configuration as taming YAML (a VQModel; <paramref name="baseLearningRate"/> is taming's <c>base_learning_rate</c>).</summary>
    public string ToYaml(double baseLearningRate = 4.5e-6)
    {
        var config = this;
        if (config.Kind != VqganKind.VQModel)
            throw new InvalidOperationException("Only VQModel configurations are written as YAML (the trainer builds VQModels).");
        config.Validate();
        var d = config.DdConfig;
        static string B(bool b) => b ? "true" : "false";
        static string N(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        static string L(IEnumerable<int> xs) => "[" + string.Join(", ", xs.Select(x => x.ToString(CultureInfo.InvariantCulture))) + "]";

        var sb = new StringBuilder();
        sb.Append("model:\n");
        sb.Append($"  base_learning_rate: {N(baseLearningRate)}\n");
        sb.Append($"  target: {VQModelTarget}\n");
        sb.Append("  params:\n");
        sb.Append($"    embed_dim: {config.EmbedDim}\n");
        sb.Append($"    n_embed: {config.NEmbed}\n");
        if (config.CkptPath is not null) sb.Append($"    ckpt_path: {config.CkptPath}\n");
        sb.Append("    ddconfig:\n");
        sb.Append($"      double_z: {B(d.DoubleZ)}\n");
        sb.Append($"      z_channels: {d.ZChannels}\n");
        sb.Append($"      resolution: {d.Resolution}\n");
        sb.Append($"      in_channels: {d.InChannels}\n");
        sb.Append($"      out_ch: {d.OutCh}\n");
        sb.Append($"      ch: {d.Ch}\n");
        sb.Append($"      ch_mult: {L(d.ChMult)}\n");
        sb.Append($"      num_res_blocks: {d.NumResBlocks}\n");
        sb.Append($"      attn_resolutions: {L(d.AttnResolutions)}\n");
        sb.Append($"      dropout: {N(d.Dropout)}\n");
        if (!d.ResampWithConv) sb.Append("      resamp_with_conv: false\n");
        sb.Append("    lossconfig:\n");
        // Trained without taming's discriminator/LPIPS (see VqganTrainer): the loss module is not part of the weights.
        sb.Append("      target: taming.modules.losses.vqperceptual.DummyLoss\n");
        return sb.ToString();
    }
}
