using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VqganClip.Clipart.Judge;

/// <summary>
/// A tiny CNN over an <see cref="ObjectCrop"/> [N,2,32,32] giving logits over the 12 object kinds:
/// three conv 3x3 + ReLU + max-pool stages (32 → 16 → 8 → 4) and one linear head. About 37k
/// parameters (~145 KB of float32). State dict names: conv1/conv2/conv3/head .weight/.bias.
/// </summary>
public sealed class ObjectClassifierNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Linear head;

    public ObjectClassifierNet() : base(nameof(ObjectClassifierNet))
    {
        conv1 = nn.Conv2d(ObjectCrop.Channels, 16, 3, padding: 1);
        conv2 = nn.Conv2d(16, 32, 3, padding: 1);
        conv3 = nn.Conv2d(32, 64, 3, padding: 1);
        head = nn.Linear(64 * (ObjectCrop.Side / 8) * (ObjectCrop.Side / 8), Vocabulary.Kinds.Length);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.max_pool2d(nn.functional.relu(conv1.forward(x)), 2);
        h = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(h)), 2);
        h = nn.functional.max_pool2d(nn.functional.relu(conv3.forward(h)), 2);
        return head.forward(h.flatten(1)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            conv2.Dispose();
            conv3.Dispose();
            head.Dispose();
        }
        base.Dispose(disposing);
    }
}
