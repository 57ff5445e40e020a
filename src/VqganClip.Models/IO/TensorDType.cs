using TorchSharp;

namespace VqganClip.Models.IO;

/// <summary>
/// One element type as the checkpoint formats name it: the safetensors code ("F32"), the torch
/// storage class of torch.save pickles ("FloatStorage"), the TorchSharp scalar type and the item size.
/// </summary>
public sealed record TensorDType(string SafeTensorsName, string StorageName, torch.ScalarType ScalarType, int ItemSize)
{
    public static readonly TensorDType F64 = new("F64", "DoubleStorage", torch.ScalarType.Float64, 8);
    public static readonly TensorDType F32 = new("F32", "FloatStorage", torch.ScalarType.Float32, 4);
    public static readonly TensorDType F16 = new("F16", "HalfStorage", torch.ScalarType.Float16, 2);
    public static readonly TensorDType BF16 = new("BF16", "BFloat16Storage", torch.ScalarType.BFloat16, 2);
    public static readonly TensorDType I64 = new("I64", "LongStorage", torch.ScalarType.Int64, 8);
    public static readonly TensorDType I32 = new("I32", "IntStorage", torch.ScalarType.Int32, 4);
    public static readonly TensorDType I16 = new("I16", "ShortStorage", torch.ScalarType.Int16, 2);
    public static readonly TensorDType I8 = new("I8", "CharStorage", torch.ScalarType.Int8, 1);
    public static readonly TensorDType U8 = new("U8", "ByteStorage", torch.ScalarType.Byte, 1);
    public static readonly TensorDType Bool = new("BOOL", "BoolStorage", torch.ScalarType.Bool, 1);

    public static IReadOnlyList<TensorDType> All { get; } = [F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool];

    /// <summary>The safetensors dtype code, e.g. "F32"; null when unknown.</summary>
    public static TensorDType? FromSafeTensorsName(string name) => All.FirstOrDefault(d => d.SafeTensorsName == name);

    /// <summary>The torch storage class name, e.g. "FloatStorage"; null when unknown.</summary>
    public static TensorDType? FromStorageName(string name) => All.FirstOrDefault(d => d.StorageName == name);

    /// <summary>The TorchSharp scalar type; null when no checkpoint format here can hold it.</summary>
    public static TensorDType? FromScalarType(torch.ScalarType type) => All.FirstOrDefault(d => d.ScalarType == type);

    /// <summary>Short lower-case name as PyTorch prints it (float32, bfloat16, int64, bool...).</summary>
    public string TorchName => ScalarType switch
    {
        torch.ScalarType.Float64 => "float64",
        torch.ScalarType.Float32 => "float32",
        torch.ScalarType.Float16 => "float16",
        torch.ScalarType.BFloat16 => "bfloat16",
        torch.ScalarType.Int64 => "int64",
        torch.ScalarType.Int32 => "int32",
        torch.ScalarType.Int16 => "int16",
        torch.ScalarType.Int8 => "int8",
        torch.ScalarType.Byte => "uint8",
        torch.ScalarType.Bool => "bool",
        _ => ScalarType.ToString(),
    };

    public override string ToString() => SafeTensorsName;
}

/// <summary>Name, element type and shape of one tensor in a file, known without loading its data.</summary>
public sealed record TensorInfo(string Name, TensorDType DType, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public long ByteCount => ElementCount * DType.ItemSize;

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
