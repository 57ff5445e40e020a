using System.Runtime.InteropServices;
using TorchSharp;

namespace VqganClip.Models.Runtime;

/// <summary>
/// Quiets libtorch's C++ warnings. On CPUs without NNPACK support libtorch logs "Could not initialize NNPACK! Reason:
/// Unsupported hardware." on every convolution that could use it (about 60 lines per guidance step on this machine),
/// flooding terminals and notebooks. libtorch's TORCH_CPP_LOG_LEVEL variable is only read by c10::initLogging(),
/// which PyTorch's Python module calls and LibTorchSharp does not, so the level is set here the same way: by writing
/// c10's exported <c>FLAGS_caffe2_log_level</c> (0 info, 1 warning, 2 error, 3 fatal) once libc10 is loaded.
/// TORCH_CPP_LOG_LEVEL=WARNING (or INFO) brings the warnings back; errors are always shown.
/// </summary>
internal static class NativeLogLevel
{
    public const string Variable = "TORCH_CPP_LOG_LEVEL";
    private const string FlagSymbol = "FLAGS_caffe2_log_level";

    /// <summary>The level to set: the variable's (a name or a number), else ERROR.</summary>
    public static int Requested()
    {
        var text = Environment.GetEnvironmentVariable(Variable)?.Trim().ToUpperInvariant();
        return text switch
        {
            "INFO" or "0" => 0,
            "WARNING" or "WARN" or "1" => 1,
            "FATAL" or "3" => 3,
            _ => 2,
        };
    }

    /// <summary>Sets c10's log level; false when libc10 or its flag cannot be found (the warnings then stay: harmless).</summary>
    public static bool Apply()
    {
        _ = torch.get_num_threads();   // makes sure TorchSharp has loaded libtorch (and with it libc10)
        foreach (var name in new[] { "libc10.so", "libc10.dylib", "c10.dll" })
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, FlagSymbol, out var flag)) return false;
            Marshal.WriteInt32(flag, Requested());
            return true;
        }
        return false;
    }
}
