using VqganClip.Models.IO.Pickle;

namespace VqganClip.Models.IO.Torch;

/// <summary>A <c>torch.FloatStorage</c>-style class named by a pickle: just its element type.</summary>
internal sealed record StorageType(string Name, TensorDType DType)
{
    public override string ToString() => "torch." + Name;
}

/// <summary>
/// One storage record of a checkpoint (zip record <c>data/&lt;key&gt;</c>, or a legacy storage blob):
/// the element type and count the pickle claims. Checked against the real bytes before reading.
/// </summary>
internal sealed class StorageRoot(string key, TensorDType dtype, long numel, string location)
{
    public string Key { get; } = key;
    public TensorDType DType { get; } = dtype;
    public long Numel { get; } = numel;
    public string Location { get; } = location;
    public long ByteCount => Numel * DType.ItemSize;
}

/// <summary>A (possibly offset) window onto a storage root, in elements. Zip files only use whole roots; legacy files may use views.</summary>
internal sealed record StorageRef(StorageRoot Root, long ElementOffset, long Numel);

/// <summary>A tensor the pickle describes: a strided view of a storage. Validated to stay inside its storage.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride)
{
    public TensorDType DType => Storage.Root.DType;

    /// <summary>Element offset into the root storage.</summary>
    public long RootOffset => Storage.ElementOffset + Offset;

    public TensorInfo Info(string name) => new(name, DType, Size);
}

/// <summary>A module-level function or class the resolver knows how to stand in for, safely.</summary>
internal sealed class KnownGlobal(string module, string name, Func<PyTuple, object?> invoke)
{
    public string Module { get; } = module;
    public string Name { get; } = name;
    public string FullName => Module + "." + Name;
    public object? Invoke(PyTuple args) => invoke(args);
    public override string ToString() => FullName;
}
