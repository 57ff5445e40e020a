using TorchSharp;
using TorchSharp.Modules;
using VqganClip.Models.Clip;
using VqganClip.Models.IO;
using VqganClip.Models.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace VqganClip.Tests.Clip;

/// <summary>No ResNet fixture exists: these tests check the ModifiedResNet's structure against the reference
/// (clip/model.py) piece by piece, and that a saved state dict reloads to the same model.</summary>
public class ModifiedResNetTests : ClipTempFolderTest
{
    /// <summary>Small but complete: 4 stages, a multi-block stage, 64px -> 2x2 attention-pool grid.</summary>
    private static ClipConfig SmallResNet => ClipConfig.ResNet(embedDim: 16, resolution: 64, layers: [1, 2, 1, 1], width: 8,
        textWidth: 16, textHeads: 2, textLayers: 1, contextLength: 8, vocabSize: 50);

    /// <summary>Random BatchNorm statistics and non-zero bn3 weights so that every branch matters.</summary>
    private static void Perturb(ClipModel model)
    {
        using var _ = torch.no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal)) t.normal_(0, 0.1);
            else if (name.EndsWith("running_var", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
            else if (name.EndsWith("bn3.weight", StringComparison.Ordinal)) t.normal_(1, 0.2);
        }
    }

    [Fact]
    public void Saved_state_dict_reloads_with_the_same_config_and_outputs()
    {
        TorchRuntime.Seed(7);
        using var model = new ClipModel(SmallResNet);
        Perturb(model);
        var dir = NewTempDir();
        var path = Path.Combine(dir, "rn_tiny.safetensors");
        SafeTensors.Write(path, model.state_dict().Select(kv => (kv.Key, kv.Value)), null);

        // Width 16 text: width/64 = 0 heads, so the head count must be given. A bare state dict reads as an
        // open_clip file (GELU by default); this one was made with the reference's QuickGELU, so say so.
        using var reloaded = ClipModel.Load(path, options: new ClipLoadOptions { Hints = new ClipConfigHints { TextHeads = 2 }, Activation = ClipActivation.QuickGelu });
        Assert.True(reloaded.Config.IsResNet);
        Assert.Equal([1, 2, 1, 1], reloaded.Config.VisionResNetLayers!);
        Assert.Equal(8, reloaded.Config.VisionWidth);
        Assert.Equal(64, reloaded.Config.ImageResolution);
        Assert.Equal(4, reloaded.Config.VisionHeads); // width * 32 / 64
        Assert.Equal(16, reloaded.Config.EmbedDim);
        Assert.True(reloaded.Config.SameArchitecture(model.Config), $"{reloaded.Config} != {model.Config}");

        using var scope = torch.NewDisposeScope();
        using var __ = torch.no_grad();
        var images = torch.randn(2, 3, 64, 64);
        var tokens = torch.tensor(new long[] { 49, 3, 7, 0, 0, 0, 0, 0, 1, 2, 49, 5, 0, 0, 0, 0 }).view(2, 8);
        var expectedImage = model.EncodeImage(images);
        Assert.Equal([2L, 16L], expectedImage.shape);
        Assert.True(expectedImage.abs().sum().item<float>() > 0);
        ClipTestSupport.AssertClose(reloaded.EncodeImage(images), expectedImage, 1e-6, 1e-6, "reloaded RN image features");
        ClipTestSupport.AssertClose(reloaded.EncodeText(tokens), model.EncodeText(tokens), 1e-6, 1e-6, "reloaded RN text features");
    }

    [Fact]
    public void State_dict_names_follow_the_reference()
    {
        using var model = new ClipModel(SmallResNet);
        var keys = model.state_dict().Keys.ToHashSet();
        foreach (var stem in new[] { "conv1", "conv2", "conv3" })
            Assert.Contains($"visual.{stem}.weight", keys);
        Assert.DoesNotContain("visual.conv1.bias", keys); // stem convolutions have no bias
        Assert.Contains("visual.bn1.running_var", keys);
        Assert.Contains("visual.bn3.num_batches_tracked", keys);
        // layer1.0 changes the channel count (8 -> 32): downsample branch, stride 1. layer1 has one block.
        Assert.Contains("visual.layer1.0.downsample.0.weight", keys);
        Assert.Contains("visual.layer1.0.downsample.1.running_mean", keys);
        Assert.DoesNotContain(keys, k => k.Contains("downsample.-1", StringComparison.Ordinal)); // the pool has no parameters
        // layer2.1 keeps channels and stride: no downsample.
        Assert.Contains("visual.layer2.1.conv3.weight", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("visual.layer2.1.downsample", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.StartsWith("visual.layer2.2.", StringComparison.Ordinal));
        foreach (var p in new[] { "positional_embedding", "k_proj.weight", "q_proj.bias", "v_proj.weight", "c_proj.weight" })
            Assert.Contains($"visual.attnpool.{p}", keys);
        Assert.Equal([5L, 256L], model.state_dict()["visual.attnpool.positional_embedding"].shape); // 2x2 grid + mean token, width*32
        Assert.Equal([16L, 256L], model.state_dict()["visual.attnpool.c_proj.weight"].shape);
        Assert.DoesNotContain(keys, k => k.Contains("attn_mask", StringComparison.Ordinal));
    }

    [Fact]
    public void Stem_is_three_convolutions_then_average_pool_two()
    {
        using var model = new ClipModel(SmallResNet);
        var resnet = Assert.IsType<ModifiedResNet>(model.visual);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var x = torch.randn(1, 3, 64, 64);
        var s1 = F.relu(resnet.bn1.forward(resnet.conv1.forward(x)));
        Assert.Equal([1L, 4L, 32L, 32L], s1.shape);        // 3x3 stride 2, width/2 channels
        var s2 = F.relu(resnet.bn2.forward(resnet.conv2.forward(s1)));
        Assert.Equal([1L, 4L, 32L, 32L], s2.shape);
        var s3 = F.relu(resnet.bn3.forward(resnet.conv3.forward(s2)));
        Assert.Equal([1L, 8L, 32L, 32L], s3.shape);
        var pooled = F.avg_pool2d(s3, 2);
        ClipTestSupport.AssertClose(resnet.avgpool.forward(s3), pooled, 0, 0, "stem avgpool");
        var l1 = resnet.layer1.forward(pooled);
        Assert.Equal([1L, 32L, 16L, 16L], l1.shape);
        var l4 = resnet.layer4.forward(resnet.layer3.forward(resnet.layer2.forward(l1)));
        Assert.Equal([1L, 256L, 2L, 2L], l4.shape);         // width*32 channels on a resolution/32 grid
        ClipTestSupport.AssertClose(resnet.forward(x), resnet.attnpool.forward(l4), 1e-6, 1e-6, "trunk + attnpool");
    }

    [Fact]
    public void Bottleneck_average_pools_after_the_3x3_and_before_the_downsample_convolution()
    {
        TorchRuntime.Seed(3);
        using var block = new Bottleneck(inplanes: 8, planes: 4, stride: 2);
        block.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        foreach (var (name, t) in block.state_dict())
            if (name.EndsWith("running_var", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
            else if (name.EndsWith("weight", StringComparison.Ordinal) && t.dim() == 1) t.normal_(1, 0.3);

        var x = torch.randn(2, 8, 6, 6);
        Tensor Bn(BatchNorm2d bn, Tensor t) => F.batch_norm(t, bn.running_mean, bn.running_var, bn.weight, bn.bias, false, 0.1, 1e-5);
        var main = F.relu(Bn(block.bn1, F.conv2d(x, block.conv1.weight!)));
        main = F.relu(Bn(block.bn2, F.conv2d(main, block.conv2.weight!, padding: [1, 1])));   // stride 1
        main = F.avg_pool2d(main, 2);                                                         // anti-aliasing pool
        main = Bn(block.bn3, F.conv2d(main, block.conv3.weight!));
        var ds = (Sequential)block.downsample!;
        var dsModules = ds.named_children().ToDictionary(kv => kv.name, kv => kv.module);
        var identity = F.avg_pool2d(x, 2);                                                    // "-1": AvgPool2d(stride)
        identity = F.conv2d(identity, ((Conv2d)dsModules["0"]).weight!);                      // "0": 1x1, stride 1
        identity = Bn((BatchNorm2d)dsModules["1"], identity);
        var expected = F.relu(main + identity);

        var actual = block.forward(x);
        Assert.Equal([2L, 16L, 3L, 3L], actual.shape);
        ClipTestSupport.AssertClose(actual, expected, 1e-5, 1e-5, "bottleneck");
    }

    [Fact]
    public void Attention_pool_prepends_the_mean_token_and_returns_its_attention_output()
    {
        TorchRuntime.Seed(5);
        using var pool = new AttentionPool2d(spacialDim: 2, embedDim: 8, heads: 1, outputDim: 3);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var x = torch.randn(2, 8, 2, 2);
        var output = pool.forward(x);
        Assert.Equal([2L, 3L], output.shape);
        Assert.Equal([5L, 8L], pool.positional_embedding.shape);

        // One head, written out: tokens = [mean, t1..t4] + pos; output = c_proj(softmax(q0 K^T / sqrt(8)) V).
        var tokens = x.flatten(2).transpose(1, 2);
        tokens = torch.cat([tokens.mean([1L], keepdim: true), tokens], 1) + pool.positional_embedding;
        var q0 = pool.q_proj.forward(tokens[.., 0..1, ..]);
        var k = pool.k_proj.forward(tokens);
        var v = pool.v_proj.forward(tokens);
        var weights = torch.softmax(torch.matmul(q0, k.transpose(1, 2)) / Math.Sqrt(8), -1);
        var expected = pool.c_proj.forward(torch.matmul(weights, v))[.., 0, ..];
        ClipTestSupport.AssertClose(output, expected, 1e-5, 1e-5, "attention pool");

        using var multi = new AttentionPool2d(spacialDim: 7, embedDim: 64, heads: 4, outputDim: 32);
        Assert.Equal([3L, 32L], multi.forward(torch.randn(3, 64, 7, 7)).shape);
    }

    [Fact]
    public void Full_size_RN50_has_the_published_parameter_count_and_reinfers_its_config()
    {
        using var model = new ClipModel(ClipConfig.RN50);
        Assert.Equal(102_007_137L, model.parameters().Sum(p => p.numel()));
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.True(ClipConfig.TryInferFromShapes(shapes, null, out var inferred, out var problem), problem);
        Assert.True(inferred!.SameArchitecture(ClipConfig.RN50));
        Assert.Equal("RN50", inferred.PublishedName);
    }

    [Fact]
    public void Full_size_ViT_B32_has_the_published_parameter_count_and_reinfers_its_config()
    {
        using var model = new ClipModel(ClipConfig.ViTB32);
        Assert.Equal(151_277_313L, model.parameters().Sum(p => p.numel()));
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.True(ClipConfig.TryInferFromShapes(shapes, null, out var inferred, out var problem), problem);
        Assert.Equal("ViT-B/32", inferred!.PublishedName);
    }
}
