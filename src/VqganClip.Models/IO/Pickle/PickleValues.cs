using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace VqganClip.Models.IO.Pickle;

// The values the safe unpickler produces. Python's None/bool/int/float/str/bytes map to
// null/bool/long (BigInteger past 64 bits)/double/string/byte[]; containers and objects map to the
// small classes below. Nothing here runs code: an object of an unknown class is a PyObject that
// only records what the pickle said about it.

/// <summary>A Python tuple. Structural equality (depth-limited) so tuples can be dict keys.</summary>
public sealed class PyTuple(object?[] items) : IReadOnlyList<object?>
{
    public static readonly PyTuple Empty = new([]);

    public object?[] Items { get; } = items;

    public int Count => Items.Length;

    public object? this[int index] => Items[index];

    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)Items).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => Items.GetEnumerator();

    public override bool Equals(object? obj) => PyKeyComparer.Instance.Equals(this, obj);

    public override int GetHashCode() => PyKeyComparer.Instance.GetHashCode(this);

    public override string ToString() => PyFormat.Describe(this);
}

/// <summary>A Python dict (or OrderedDict, or a dict subclass we know is harmless): insertion-ordered.</summary>
public sealed class PyDict
{
    private static readonly object NoneKey = new();
    private readonly List<KeyValuePair<object?, object?>> _items = new();
    private readonly Dictionary<object, int> _index = new(PyKeyComparer.Instance);

    /// <summary>Python class the dict came from when it was not a plain dict (e.g. "collections.OrderedDict").</summary>
    public string? ClassName { get; init; }

    public int Count => _items.Count;

    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;

    public void Set(object? key, object? value)
    {
        var k = key ?? NoneKey;
        if (_index.TryGetValue(k, out var i))
            _items[i] = new(key, value);
        else
        {
            _index[k] = _items.Count;
            _items.Add(new(key, value));
        }
    }

    public bool TryGet(object? key, out object? value)
    {
        if (_index.TryGetValue(key ?? NoneKey, out var i))
        {
            value = _items[i].Value;
            return true;
        }
        value = null;
        return false;
    }

    public object? GetOrNull(object? key) => TryGet(key, out var v) ? v : null;

    public override string ToString() => PyFormat.Describe(this);
}

/// <summary>A Python set or frozenset.</summary>
public sealed class PySet
{
    public List<object?> Items { get; } = new();

    public bool Frozen { get; init; }

    public override string ToString() => PyFormat.Describe(this);
}

/// <summary>A reference to a module-level Python name (class or function) that no handler knows. Never resolved.</summary>
public sealed record PyGlobal(string Module, string Name)
{
    public string FullName => Module + "." + Name;

    public override string ToString() => FullName;
}

/// <summary>
/// An inert placeholder for an object of a class (or the result of a call) the reader does not know:
/// it records the class/function, its arguments and the state BUILD gave it, and nothing more.
/// </summary>
public sealed class PyObject(PyGlobal type, PyTuple args)
{
    public PyGlobal Type { get; } = type;

    public PyTuple Args { get; } = args;

    /// <summary>What BUILD gave the object (usually a dict of attributes), if anything.</summary>
    public object? State { get; set; }

    /// <summary>Items APPENDed to it (list subclasses).</summary>
    public List<object?> ListItems { get; } = new();

    /// <summary>Items SETITEMed into it (dict subclasses).</summary>
    public PyDict DictItems { get; } = new();

    /// <summary>Attribute dict of the object: its BUILD state when that is a dict.</summary>
    public PyDict? Attributes => State switch
    {
        PyDict d => d,
        // (state, slotstate) pairs: __dict__ first.
        PyTuple { Count: 2 } t when t[0] is PyDict d => d,
        _ => null,
    };

    public override string ToString() => $"<{Type.FullName} object>";
}

/// <summary>
/// Equality and hashing of pickle values used as dict keys. Strings, numbers and bytes compare by value,
/// and so do small flat tuples of them; anything else (nested or wide tuples, containers, objects)
/// compares by reference. Checkpoint keys are strings, so nothing is lost, and a hostile pickle cannot
/// make a dict insertion cost more than a few dozen primitive comparisons.
/// </summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();
    private const int MaxStructuralTupleItems = 16;

    public new bool Equals(object? x, object? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        if (x is PyTuple a && y is PyTuple b)
            return IsStructural(a) && IsStructural(b) && a.Count == b.Count && a.Items.Zip(b.Items).All(p => PrimitiveEquals(p.First, p.Second));
        if (x is PyTuple || y is PyTuple) return false;
        return PrimitiveEquals(x, y);
    }

    public int GetHashCode(object obj) => obj switch
    {
        PyTuple t when IsStructural(t) => t.Items.Aggregate(t.Count, (h, item) => HashCode.Combine(h, PrimitiveHash(item))),
        PyTuple t => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(t),
        _ => PrimitiveHash(obj),
    };

    private static bool IsPrimitive(object? x) => x is null or string or long or bool or double or BigInteger or byte[];

    private static bool IsStructural(PyTuple t) => t.Count <= MaxStructuralTupleItems && t.Items.All(IsPrimitive);

    private static bool PrimitiveEquals(object? x, object? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        return (x, y) switch
        {
            (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
            (long a, bool b) => a == (b ? 1 : 0),
            (bool a, long b) => b == (a ? 1 : 0),
            (long a, double b) => a == b,
            (double a, long b) => a == b,
            (long a, BigInteger b) => a == b,
            (BigInteger a, long b) => a == b,
            (string or long or bool or double or BigInteger, _) => x.Equals(y),
            _ => false, // containers and objects: identity only
        };
    }

    private static int PrimitiveHash(object? x) => x switch
    {
        null => 0,
        byte[] b => HashEnds(b.AsSpan()),
        string s => HashEnds(MemoryMarshal.AsBytes(s.AsSpan())),
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => ((long)d).GetHashCode(),
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => ((long)big).GetHashCode(),
        double or BigInteger => x.GetHashCode(),
        _ => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(x),
    };

    // Length plus the first and last 256 bytes: hashing a huge string re-used as a key through the memo
    // costs the same as hashing a short one.
    private static int HashEnds(ReadOnlySpan<byte> bytes)
    {
        var hash = new HashCode();
        hash.Add(bytes.Length);
        hash.AddBytes(bytes[..Math.Min(256, bytes.Length)]);
        if (bytes.Length > 256) hash.AddBytes(bytes[Math.Max(256, bytes.Length - 256)..]);
        return hash.ToHashCode();
    }
}

/// <summary>Short, bounded descriptions of pickle values for error messages.</summary>
internal static class PyFormat
{
    public static string Describe(object? value, int depth = 0)
    {
        var sb = new StringBuilder();
        Append(sb, value, depth);
        return sb.Length > 200 ? sb.ToString(0, 200) + "..." : sb.ToString();
    }

    private static void Append(StringBuilder sb, object? value, int depth)
    {
        if (sb.Length > 200) return;
        if (depth > 3) { sb.Append("..."); return; }
        switch (value)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case string s: sb.Append('\'').Append(s.Length > 60 ? s[..60] + "..." : s).Append('\''); break;
            case byte[] bytes: sb.Append($"<{bytes.Length} bytes>"); break;
            case PyTuple t:
                sb.Append('(');
                for (int i = 0; i < t.Count && sb.Length < 200; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Append(sb, t[i], depth + 1);
                }
                sb.Append(t.Count == 1 ? ",)" : ")");
                break;
            case List<object?> list: sb.Append($"<list of {list.Count}>"); break;
            case PyDict d: sb.Append($"<{d.ClassName ?? "dict"} of {d.Count}>"); break;
            case PySet s: sb.Append($"<{(s.Frozen ? "frozenset" : "set")} of {s.Items.Count}>"); break;
            default: sb.Append(value); break;
        }
    }

    /// <summary>Python-ish type name of a value, for "expected X, got Y" messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PyTuple => "tuple",
        List<object?> => "list",
        PyDict d => d.ClassName ?? "dict",
        PySet s => s.Frozen ? "frozenset" : "set",
        PyGlobal g => "global " + g.FullName,
        PyObject o => o.Type.FullName + " object",
        _ => value.GetType().Name,
    };
}
