using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using VqganClip.Models.Vqgan;
using VqganClip.Notebooks;
using VqganClip.Notebooks.Charts;

namespace VqganClip.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public class VqganViewTests
{
    public VqganViewTests() => NotebookFormatters.Register();

    private static VqganModel Load() => VqganModel.Load(
        TestSetup.Fixtures("vqgan-f16-tiny", "model.safetensors"), TestSetup.Fixtures("vqgan-f16-tiny", "model.yaml"));

    [Fact]
    public void Codebook_usage_of_an_encoded_image_counts_every_latent_position()
    {
        using var vqgan = Load();
        torch.manual_seed(5);
        using var image = torch.rand(1, 3, 64, 64).mul(2).sub(1);
        var (zq, indices) = vqgan.EncodeQuantized(image);
        using var _ = zq;
        using var __ = indices;
        int side = 64 / vqgan.DownsamplingFactor;

        var usage = CodebookUsage.FromIndices(indices, vqgan.Config.NEmbed, (side, side));
        Assert.Equal(side * side, usage.Positions);
        Assert.Equal(side * side, usage.Counts.Sum());
        Assert.Equal(vqgan.Config.NEmbed, usage.Counts.Length);
        var flat = indices.data<long>().ToArray();
        Assert.Equal(flat.Distinct().Count(), usage.CodesUsed);
        Assert.Equal((int)flat[side + 1], usage.Indices[1, 1]);
        Assert.InRange(usage.Perplexity, 1.0, usage.CodesUsed + 1e-9);
    }

    [Fact]
    public void A_vqgan_model_formats_with_its_config_and_parameter_count()
    {
        using var vqgan = Load();
        var html = vqgan.ToDisplayString("text/html");
        long parameters = vqgan.parameters().Sum(p => p.numel());
        Assert.Contains(parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " parameters", html);
        Assert.Contains($"<td>NEmbed</td><td>{vqgan.Config.NEmbed}</td>", html);
        Assert.Contains("<td>encoder</td>", html);
        Assert.Contains("<td>decoder</td>", html);
    }
}
