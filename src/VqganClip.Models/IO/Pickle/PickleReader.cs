using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace VqganClip.Models.IO.Pickle;

/// <summary>
/// What the unpickler asks its owner whenever the pickle would, in Python, import or call something.
/// The owner answers with plain values or inert placeholders; it never runs code or creates .NET
/// types by name. Throw <see cref="PickleException"/> to reject the file.
/// </summary>
internal interface IPickleResolver
{
    /// <summary>GLOBAL / STACK_GLOBAL / INST: the value standing for <c>module.name</c>.</summary>
    object? ResolveGlobal(string module, string name);

    /// <summary>REDUCE: <c>callable(*args)</c>.</summary>
    object? Call(object? callable, PyTuple args);

    /// <summary>NEWOBJ / NEWOBJ_EX / OBJ: <c>cls.__new__(cls, *args)</c>.</summary>
    object? NewObject(object? cls, PyTuple args);

    /// <summary>BUILD: <c>obj.__setstate__(state)</c> or <c>obj.__dict__.update(state)</c>.</summary>
    void Build(object? target, object? state);

    /// <summary>PERSID / BINPERSID: the object an out-of-pickle id refers to (torch storages).</summary>
    object? PersistentLoad(object? pid);
}

/// <summary>A problem found while unpickling; the readers turn it into a <see cref="CheckpointFormatException"/>.</summary>
internal sealed class PickleException(string problem) : Exception(problem)
{
    public string Problem { get; } = problem;

    /// <summary>Byte offset of the opcode being executed, once the reader knows it.</summary>
    public long? Offset { get; init; }

    public override string Message => Offset is null ? Problem : $"{Problem} (opcode at byte {Offset})";
}

/// <summary>Bounds that keep a hostile pickle from exhausting memory.</summary>
internal sealed record PickleLimits(int MaxStack = 10_000_000, int MaxMarks = 1_000_000, int MaxMemo = 10_000_000, int MaxLineBytes = 1 << 16, int MaxLongBytes = 1 << 16)
{
    public static readonly PickleLimits Default = new();
}

/// <summary>
/// A safe, hand-written unpickler for protocols 0-5 (the subset of opcodes torch.save, TorchScript and
/// Lightning use, plus the rest of the common ones). Hand-written because no .NET package unpickles
/// safely: Python's own pickle executes arbitrary callables. Here every import/call/BUILD goes to an
/// <see cref="IPickleResolver"/>; the machine itself is iterative (no recursion), every length is
/// checked against the bytes actually left before anything is allocated, and stack/memo sizes are
/// bounded. Each opcode consumes at least one byte, so a pickle cannot make it loop.
/// </summary>
internal sealed class PickleReader
{
    private readonly Stream _input;
    private readonly IPickleResolver _resolver;
    private readonly PickleLimits _limits;
    private readonly long _length;
    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private long _opcodeAt;

    public PickleReader(Stream input, IPickleResolver resolver, PickleLimits? limits = null)
    {
        if (!input.CanSeek) throw new ArgumentException("The pickle stream must be seekable (its length bounds every read).", nameof(input));
        _input = input;
        _length = input.Length; // fixed for the whole read; asking a FileStream each time costs a system call
        _resolver = resolver;
        _limits = limits ?? PickleLimits.Default;
    }

    private long Remaining => _length - _input.Position;

    /// <summary>Reads one pickle, up to and including its STOP opcode; the stream is left just after it.</summary>
    public object? Load()
    {
        _stack.Clear();
        _marks.Clear();
        _memo.Clear();
        while (true)
        {
            _opcodeAt = _input.Position;
            int op = _input.ReadByte();
            if (op < 0) throw new PickleException("pickle ends without a STOP opcode (truncated)") { Offset = _opcodeAt };
            try
            {
                if (Step((byte)op, out var result)) return result;
            }
            catch (PickleException e) when (e.Offset is null)
            {
                throw new PickleException(e.Problem) { Offset = _opcodeAt };
            }
            catch (EndOfStreamException)
            {
                throw new PickleException("pickle is truncated") { Offset = _opcodeAt };
            }
        }
    }

    // Returns true at STOP.
    private bool Step(byte op, out object? result)
    {
        result = null;
        switch (op)
        {
            // ---- framing and protocol
            case 0x80: // PROTO
                {
                    int proto = ReadU8();
                    if (proto > 5) throw new PickleException($"unsupported pickle protocol {proto}");
                    break;
                }
            case 0x95: // FRAME: an advisory length, the opcodes inside are read as usual
                ReadBytes(8);
                break;
            case (byte)'.': // STOP
                if (_stack.Count != 1 || _marks.Count != 0)
                    throw new PickleException($"STOP with {_stack.Count} values on the stack and {_marks.Count} open marks");
                result = _stack[0];
                return true;

            // ---- stack manipulation
            case (byte)'(': // MARK
                if (_marks.Count >= _limits.MaxMarks) throw new PickleException($"more than {_limits.MaxMarks} nested marks");
                _marks.Push(_stack.Count);
                break;
            case (byte)'0': Pop(); break; // POP
            case (byte)'1': PopMark(); break; // POP_MARK
            case (byte)'2': Push(Peek()); break; // DUP

            // ---- constants
            case (byte)'N': Push(null); break;
            case 0x88: Push(true); break; // NEWTRUE
            case 0x89: Push(false); break; // NEWFALSE
            case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break; // BININT
            case (byte)'K': Push((long)ReadU8()); break; // BININT1
            case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
            case 0x8a: Push(ReadLong(ReadU8())); break; // LONG1
            case 0x8b: Push(ReadLong(ReadLength(4))); break; // LONG4
            case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT (big-endian, as Python packs it)
            case (byte)'I': Push(ParseTextInt(ReadLine())); break; // INT
            case (byte)'L': Push(ParseTextLong(ReadLine())); break; // LONG
            case (byte)'F': Push(ParseTextFloat(ReadLine())); break; // FLOAT

            // ---- strings and bytes
            case 0x8c: Push(ReadUtf8(ReadU8())); break; // SHORT_BINUNICODE
            case (byte)'X': Push(ReadUtf8(ReadLength(4))); break; // BINUNICODE
            case 0x8d: Push(ReadUtf8(ReadLength(8))); break; // BINUNICODE8
            case (byte)'U': Push(Encoding.Latin1.GetString(ReadBytes(ReadU8()))); break; // SHORT_BINSTRING (Python 2 str)
            case (byte)'T': Push(Encoding.Latin1.GetString(ReadBytes(ReadLength(4, signed: true)))); break; // BINSTRING
            case (byte)'C': Push(ReadBytes(ReadU8())); break; // SHORT_BINBYTES
            case (byte)'B': Push(ReadBytes(ReadLength(4))); break; // BINBYTES
            case 0x8e: Push(ReadBytes(ReadLength(8))); break; // BINBYTES8
            case 0x96: Push(ReadBytes(ReadLength(8))); break; // BYTEARRAY8
            case (byte)'S': Push(ParseTextString(ReadLine())); break; // STRING
            case (byte)'V': Push(ParseRawUnicodeEscape(ReadLine())); break; // UNICODE
            case 0x97: throw new PickleException("NEXT_BUFFER (out-of-band data) is not supported");
            case 0x98: break; // READONLY_BUFFER: no-op on our immutable byte arrays

            // ---- tuples
            case (byte)')': Push(PyTuple.Empty); break; // EMPTY_TUPLE
            case (byte)'t': Push(new PyTuple(PopMark().ToArray())); break; // TUPLE
            case 0x85: { var a = Pop(); Push(new PyTuple([a])); break; } // TUPLE1
            case 0x86: { var b = Pop(); var a = Pop(); Push(new PyTuple([a, b])); break; } // TUPLE2
            case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PyTuple([a, b, c])); break; } // TUPLE3

            // ---- lists
            case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
            case (byte)'l': Push(PopMark()); break; // LIST
            case (byte)'a': { var v = Pop(); Append(Peek(), [v]); break; } // APPEND
            case (byte)'e': { var items = PopMark(); Append(Peek(), items); break; } // APPENDS

            // ---- dicts
            case (byte)'}': Push(new PyDict()); break; // EMPTY_DICT
            case (byte)'d': { var items = PopMark(); var d = new PyDict(); SetItems(d, items); Push(d); break; } // DICT
            case (byte)'s': { var v = Pop(); var k = Pop(); SetItems(Peek(), [k, v]); break; } // SETITEM
            case (byte)'u': { var items = PopMark(); SetItems(Peek(), items); break; } // SETITEMS

            // ---- sets
            case 0x8f: Push(new PySet()); break; // EMPTY_SET
            case 0x90: { var items = PopMark(); AddItems(Peek(), items); break; } // ADDITEMS
            case 0x91: { var set = new PySet { Frozen = true }; set.Items.AddRange(PopMark()); Push(set); break; } // FROZENSET

            // ---- memo
            case (byte)'p': Put(ParseMemoIndex(ReadLine())); break; // PUT
            case (byte)'q': Put(ReadU8()); break; // BINPUT
            case (byte)'r': Put(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))); break; // LONG_BINPUT
            case 0x94: Put(_memo.Count); break; // MEMOIZE
            case (byte)'g': Push(Get(ParseMemoIndex(ReadLine()))); break; // GET
            case (byte)'h': Push(Get(ReadU8())); break; // BINGET
            case (byte)'j': Push(Get(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET

            // ---- globals, calls and objects: all delegated to the resolver
            case (byte)'c': // GLOBAL
                {
                    var module = ReadAsciiLine();
                    var name = ReadAsciiLine();
                    Push(_resolver.ResolveGlobal(module, name));
                    break;
                }
            case 0x93: // STACK_GLOBAL
                {
                    var name = Pop();
                    var module = Pop();
                    if (module is not string m || name is not string n)
                        throw new PickleException($"STACK_GLOBAL needs two strings, got {PyFormat.TypeName(module)} and {PyFormat.TypeName(name)}");
                    Push(_resolver.ResolveGlobal(m, n));
                    break;
                }
            case (byte)'R': // REDUCE
                {
                    var args = Pop();
                    var callable = Pop();
                    if (args is not PyTuple t) throw new PickleException($"REDUCE arguments must be a tuple, got {PyFormat.TypeName(args)}");
                    Push(_resolver.Call(callable, t));
                    break;
                }
            case 0x81: // NEWOBJ
                {
                    var args = Pop();
                    var cls = Pop();
                    if (args is not PyTuple t) throw new PickleException($"NEWOBJ arguments must be a tuple, got {PyFormat.TypeName(args)}");
                    Push(_resolver.NewObject(cls, t));
                    break;
                }
            case 0x92: // NEWOBJ_EX (keyword arguments are dropped: only placeholders are built from them)
                {
                    Pop();
                    var args = Pop();
                    var cls = Pop();
                    if (args is not PyTuple t) throw new PickleException($"NEWOBJ_EX arguments must be a tuple, got {PyFormat.TypeName(args)}");
                    Push(_resolver.NewObject(cls, t));
                    break;
                }
            case (byte)'i': // INST: module, name lines, then args since the mark
                {
                    var module = ReadAsciiLine();
                    var name = ReadAsciiLine();
                    var args = new PyTuple(PopMark().ToArray());
                    Push(_resolver.NewObject(_resolver.ResolveGlobal(module, name), args));
                    break;
                }
            case (byte)'o': // OBJ: class then args since the mark
                {
                    var items = PopMark();
                    if (items.Count == 0) throw new PickleException("OBJ without a class");
                    Push(_resolver.NewObject(items[0], new PyTuple(items.Skip(1).ToArray())));
                    break;
                }
            case (byte)'b': // BUILD
                {
                    var state = Pop();
                    _resolver.Build(Peek(), state);
                    break;
                }
            case (byte)'Q': Push(_resolver.PersistentLoad(Pop())); break; // BINPERSID
            case (byte)'P': Push(_resolver.PersistentLoad(ReadAsciiLine())); break; // PERSID
            case 0x82 or 0x83 or 0x84:
                throw new PickleException("extension-registry opcodes (EXT1/EXT2/EXT4) are not supported");

            default:
                throw new PickleException($"unknown pickle opcode 0x{op:x2}");
        }
        return false;
    }

    // ---- stack helpers

    private void Push(object? value)
    {
        if (_stack.Count >= _limits.MaxStack) throw new PickleException($"pickle stack grows beyond {_limits.MaxStack} items");
        _stack.Add(value);
    }

    private object? Pop()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw new PickleException("pickle pops from an empty stack");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw new PickleException("pickle reads from an empty stack");
        return _stack[^1];
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw new PickleException("pickle uses a MARK it never set");
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private void Put(long index)
    {
        if (!_memo.ContainsKey(index) && _memo.Count >= _limits.MaxMemo)
            throw new PickleException($"pickle memo grows beyond {_limits.MaxMemo} entries");
        _memo[index] = Peek();
    }

    private object? Get(long index) =>
        _memo.TryGetValue(index, out var v) ? v : throw new PickleException($"pickle reads memo entry {index}, which was never stored");

    private static void Append(object? target, List<object?> items)
    {
        switch (target)
        {
            case List<object?> list: list.AddRange(items); break;
            case PyObject obj: obj.ListItems.AddRange(items); break;
            default: throw new PickleException($"APPEND to a {PyFormat.TypeName(target)}");
        }
    }

    private static void SetItems(object? target, List<object?> items)
    {
        if (items.Count % 2 != 0) throw new PickleException("SETITEMS with an odd number of items");
        var dict = target switch
        {
            PyDict d => d,
            PyObject obj => obj.DictItems,
            _ => throw new PickleException($"SETITEM on a {PyFormat.TypeName(target)}"),
        };
        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
    }

    private static void AddItems(object? target, List<object?> items)
    {
        switch (target)
        {
            case PySet set: set.Items.AddRange(items); break;
            case PyObject obj: obj.ListItems.AddRange(items); break;
            default: throw new PickleException($"ADDITEMS to a {PyFormat.TypeName(target)}");
        }
    }

    // ---- input helpers: every length is checked against what is really left

    private int ReadU8()
    {
        int b = _input.ReadByte();
        if (b < 0) throw new PickleException("pickle is truncated");
        return b;
    }

    private byte[] ReadBytes(long count)
    {
        if (count < 0 || count > Remaining)
            throw new PickleException($"pickle is truncated or corrupt: it claims {count} bytes but only {Remaining} remain");
        var buffer = new byte[count];
        _input.ReadExactly(buffer);
        return buffer;
    }

    private long ReadLength(int width, bool signed = false)
    {
        var bytes = ReadBytes(width);
        long length = width switch
        {
            4 when signed => BinaryPrimitives.ReadInt32LittleEndian(bytes),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes) > long.MaxValue ? -1 : (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        };
        if (length < 0 || length > Remaining)
            throw new PickleException($"pickle is truncated or corrupt: it claims a {(length < 0 ? "negative or huge" : length.ToString(CultureInfo.InvariantCulture))}-byte string but only {Remaining} bytes remain");
        return length;
    }

    private string ReadUtf8(long length)
    {
        // Invalid sequences become U+FFFD rather than failing: names are compared, never executed.
        return Encoding.UTF8.GetString(ReadBytes(length));
    }

    private object ReadLong(long length)
    {
        if (length > _limits.MaxLongBytes) throw new PickleException($"pickle integer of {length} bytes exceeds the {_limits.MaxLongBytes}-byte limit");
        var bytes = ReadBytes(length);
        if (length == 0) return 0L;
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private byte[] ReadLine()
    {
        var line = new List<byte>();
        while (true)
        {
            int b = _input.ReadByte();
            if (b < 0) throw new PickleException("pickle is truncated inside a text line");
            if (b == '\n') return line.ToArray();
            if (line.Count >= _limits.MaxLineBytes) throw new PickleException($"pickle text line longer than {_limits.MaxLineBytes} bytes");
            line.Add((byte)b);
        }
    }

    private string ReadAsciiLine() => Encoding.UTF8.GetString(ReadLine());

    private static object ParseTextInt(byte[] line)
    {
        var s = Encoding.ASCII.GetString(line).Trim();
        if (s == "00") return false;
        if (s == "01") return true;
        return ParseTextLong(line);
    }

    private static object ParseTextLong(byte[] line)
    {
        var s = Encoding.ASCII.GetString(line).Trim().TrimEnd('L');
        if (s.Length > 1000 || !BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            throw new PickleException($"bad text integer '{(s.Length > 40 ? s[..40] + "..." : s)}'");
        return v >= long.MinValue && v <= long.MaxValue ? (long)v : v;
    }

    private static double ParseTextFloat(byte[] line)
    {
        var s = Encoding.ASCII.GetString(line).Trim();
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new PickleException($"bad text float '{(s.Length > 40 ? s[..40] + "..." : s)}'");
    }

    private static long ParseMemoIndex(byte[] line)
    {
        var s = Encoding.ASCII.GetString(line).Trim();
        return long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new PickleException($"bad memo index '{(s.Length > 40 ? s[..40] + "..." : s)}'");
    }

    // Protocol 0 STRING: a Python repr of a str, quoted with ' or ". Only the escapes repr produces.
    private static string ParseTextString(byte[] line)
    {
        var s = Encoding.Latin1.GetString(line);
        if (s.Length < 2 || s[0] != s[^1] || (s[0] != '\'' && s[0] != '"'))
            throw new PickleException("STRING opcode argument is not quoted");
        s = s[1..^1];
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 >= s.Length) { sb.Append(s[i]); continue; }
            char c = s[++i];
            switch (c)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'x' when i + 2 < s.Length && int.TryParse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex):
                    sb.Append((char)hex);
                    i += 2;
                    break;
                default: sb.Append('\\').Append(c); break;
            }
        }
        return sb.ToString();
    }

    // Protocol 0 UNICODE: raw-unicode-escape (\uXXXX and \UXXXXXXXX, everything else literal Latin-1).
    private static string ParseRawUnicodeEscape(byte[] line)
    {
        var s = Encoding.Latin1.GetString(line);
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && (s[i + 1] == 'u' || s[i + 1] == 'U'))
            {
                int digits = s[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits <= s.Length && int.TryParse(s.AsSpan(i + 2, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var cp) && cp is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF))
                {
                    sb.Append(char.ConvertFromUtf32(cp));
                    i += 1 + digits;
                    continue;
                }
            }
            sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
