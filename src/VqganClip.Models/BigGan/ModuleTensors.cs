using TorchSharp;

namespace VqganClip.Models.BigGan;

/// <summary>Keeps a module's parameters and buffers alive when it is built inside a caller's dispose scope.</summary>
internal static class ModuleTensors
{
    /// <summary>
    /// Takes every parameter and buffer of <paramref name="module"/> out of the dispose scope it was created in: they
    /// live as long as the module (a model loaded inside <c>using (NewDisposeScope())</c> must work after it).
    /// </summary>
    public static void DetachFromDisposeScopes(torch.nn.Module module)
    {
        foreach (var parameter in module.parameters()) parameter.DetachFromDisposeScope();
        foreach (var buffer in module.buffers()) buffer.DetachFromDisposeScope();
    }
}
