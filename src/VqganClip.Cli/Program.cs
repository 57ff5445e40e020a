using TorchSharp;
using VqganClip.Models.Runtime;
TorchRuntime.EnsureInitialized();
Console.WriteLine(TorchRuntime.NativeFixStatus);
Console.WriteLine(torch.ones(2,2).sum().item<float>());
