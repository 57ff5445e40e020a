namespace VqganClip.Models.IO;

/// <summary>The <see cref="StateDict.Format"/> names the readers use.</summary>
public static class CheckpointFormats
{
    public const string SafeTensors = "safetensors";

    /// <summary>torch.save since PyTorch 1.6: a zip with data.pkl and data/&lt;key&gt; storages.</summary>
    public const string TorchZip = "torch-zip";

    /// <summary>torch.save before 1.6 (or _use_new_zipfile_serialization=False): pickles then raw storages.</summary>
    public const string TorchLegacy = "torch-legacy";

    /// <summary>torch.jit.save archives (OpenAI's CLIP downloads): module tree in data.pkl.</summary>
    public const string TorchScript = "torchscript";
}
