using TorchSharp;
using static TorchSharp.torch;

namespace VqganClip.Models.Transformer;

/// <summary>
/// The key/value cache of <see cref="Gpt.ForwardWithPast(Tensor, GptKvCache, Tensor?)"/>: for every layer the keys and
/// values [B, n_head, length, head_dim] of the positions already read. Upstream (mingpt's <c>forward_with_past</c>)
/// returns them as "presents" and concatenates a growing list every step; here each layer owns a buffer of
/// <see cref="Capacity"/> positions allocated once and filled in place, so a sampling loop allocates nothing that
/// grows. <see cref="ToPresents"/> gives upstream's stacked layout. Dispose it when sampling is done.
/// </summary>
public sealed class GptKvCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    internal GptKvCache(GptConfig config, long batch, int capacity, ScalarType dtype, Device device)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), $"A key/value cache needs a positive batch size (got {batch}).");
        if (capacity <= 0 || capacity > config.BlockSize)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"A key/value cache holds 1 to block_size = {config.BlockSize} positions (asked for {capacity}).");
        BatchSize = batch;
        Capacity = capacity;
        Layers = config.NLayer;
        _keys = new Tensor[config.NLayer];
        _values = new Tensor[config.NLayer];
        var shape = new long[] { batch, config.NHead, capacity, config.HeadDim };
        for (int i = 0; i < config.NLayer; i++)
        {
            // Owned by the cache, not by whatever dispose scope the caller has open.
            _keys[i] = torch.zeros(shape, dtype, device).DetachFromDisposeScope();
            _values[i] = torch.zeros(shape, dtype, device).DetachFromDisposeScope();
        }
    }

    /// <summary>Positions read so far (upstream's <c>past_length</c> for the next call).</summary>
    public int Length { get; private set; }

    /// <summary>The most positions this cache can hold.</summary>
    public int Capacity { get; }

    /// <summary>Rows of the batch it was made for.</summary>
    public long BatchSize { get; }

    /// <summary>Number of layers.</summary>
    public int Layers { get; }

    /// <summary>Forgets every position (the buffers are kept for the next sequence).</summary>
    public void Reset() => Length = 0;

    /// <summary>Writes the keys and values of <paramref name="count"/> new positions of a layer at [Length, Length + count).</summary>
    internal void Write(int layer, Tensor k, Tensor v)
    {
        long count = k.shape[2];
        using (torch.no_grad())
        {
            using var keySlot = _keys[layer].narrow(2, Length, count);
            using var valueSlot = _values[layer].narrow(2, Length, count);
            keySlot.copy_(k);
            valueSlot.copy_(v);
        }
    }

    /// <summary>Views of a layer's keys and values for positions [0, <paramref name="length"/>) (the caller disposes the views).</summary>
    internal (Tensor Keys, Tensor Values) Read(int layer, long length) =>
        (_keys[layer].narrow(2, 0, length), _values[layer].narrow(2, 0, length));

    /// <summary>Moves <see cref="Length"/> on after every layer has written <paramref name="count"/> positions.</summary>
    internal void Advance(int count) => Length += count;

    /// <summary>
    /// Upstream's stacked presents [n_layer, 2, B, n_head, Length, head_dim] (a copy; the caller owns it): index 0 of
    /// the second axis holds keys, 1 values.
    /// </summary>
    public Tensor ToPresents()
    {
        using var scope = torch.NewDisposeScope();
        var layers = new Tensor[Layers];
        for (int i = 0; i < Layers; i++)
        {
            var (k, v) = Read(i, Length);
            layers[i] = torch.stack(new[] { k, v });
        }
        return torch.stack(layers).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the buffers.</summary>
    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
    }
}
