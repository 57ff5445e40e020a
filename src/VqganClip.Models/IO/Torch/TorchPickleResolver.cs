using System.Text;
using VqganClip.Models.IO.Pickle;

namespace VqganClip.Models.IO.Torch;

/// <summary>
/// Answers the unpickler for torch.save / TorchScript / Lightning pickles. A fixed table maps the
/// handful of globals checkpoints need (tensor rebuilders, storage classes, OrderedDict, ...) to
/// safe stand-ins; globals that can only mean code execution (os.system, subprocess.Popen, eval,
/// ...) reject the file; any other global becomes an inert <see cref="PyObject"/> placeholder so
/// that, say, a Lightning checkpoint's hyper-parameter objects do not stop the weights loading
/// (SimpleNamespace and 3.11+ enum members via getattr included, see <see cref="InertAttributeLookup"/>).
/// Nothing is ever imported, called or instantiated by name.
/// </summary>
internal sealed class TorchPickleResolver : IPickleResolver
{
    // Modules whose every name can reach the OS, the network, the interpreter or another file.
    private static readonly HashSet<string> DangerousModuleRoots = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "_posixsubprocess", "sys", "shutil", "socket", "importlib",
        "runpy", "pty", "pickle", "_pickle", "marshal", "ctypes", "webbrowser", "code", "codeop", "commands",
        "multiprocessing", "signal", "asyncio", "pdb", "timeit", "cProfile", "profile", "types", "inspect", "tempfile",
        "glob", "io", "requests", "urllib", "http", "ftplib", "smtplib", "telnetlib", "platform", "threading", "_thread",
    };

    private static readonly string[] DangerousModulePrefixes = ["torch.hub", "torch.serialization"];

    // Single names that call code or load files.
    private static readonly HashSet<string> DangerousNames = new(StringComparer.Ordinal)
    {
        "torch.load", "torch.jit.load", "numpy.load", "operator.attrgetter", "operator.methodcaller",
    };

    private static readonly HashSet<string> DangerousBuiltins = new(StringComparer.Ordinal)
    {
        "eval", "exec", "execfile", "compile", "open", "file", "input", "raw_input", "setattr", "delattr",
        "__import__", "globals", "locals", "vars", "breakpoint", "apply", "reload", "help", "exit", "quit",
    };

    // Inert data classes that live in otherwise dangerous modules: a SimpleNamespace is only attributes
    // (hyper-parameters of a user's training script), built by REDUCE/NEWOBJ with () and a BUILD dict.
    private static readonly HashSet<string> InertNamesInDangerousModules = new(StringComparer.Ordinal)
    {
        "types.SimpleNamespace",
    };

    private readonly Dictionary<string, KnownGlobal> _known;
    private readonly Dictionary<string, StorageRoot> _roots = new(StringComparer.Ordinal);

    public TorchPickleResolver()
    {
        _known = BuildTable().ToDictionary(g => g.FullName, StringComparer.Ordinal);
    }

    /// <summary>Every storage the pickle referenced, by key, in first-use order.</summary>
    public IReadOnlyDictionary<string, StorageRoot> Roots => _roots;

    public object? ResolveGlobal(string module, string name)
    {
        var full = module + "." + name;
        if (IsDangerous(module, name))
            throw new PickleException($"pickle references {full}, which can run code; nothing was executed and the file is refused");
        if (_known.TryGetValue(full, out var known)) return known;
        if (module.StartsWith("torch", StringComparison.Ordinal) && name.EndsWith("Storage", StringComparison.Ordinal))
        {
            // torch.FloatStorage, torch.cuda.HalfStorage, ...: only the element type matters on load.
            var dtype = name == "UntypedStorage" ? TensorDType.U8 : TensorDType.FromStorageName(name);
            if (dtype is not null) return new StorageType(name, dtype);
        }
        return new PyGlobal(module, name);
    }

    private static bool IsDangerous(string module, string name)
    {
        if (InertNamesInDangerousModules.Contains(module + "." + name)) return false;
        if (DangerousModuleRoots.Contains(module.Split('.')[0])) return true;
        if (DangerousModulePrefixes.Any(p => module == p || module.StartsWith(p + ".", StringComparison.Ordinal))) return true;
        if (DangerousNames.Contains(module + "." + name)) return true;
        return module is "builtins" or "__builtin__" && DangerousBuiltins.Contains(name);
    }

    public object? Call(object? callable, PyTuple args) => callable switch
    {
        KnownGlobal g => g.Invoke(args),
        PyGlobal g => new PyObject(g, args),
        StorageType s => throw new PickleException($"pickle calls storage class {s} directly (storages must come from persistent ids)"),
        PyObject o => new PyObject(o.Type, args),
        _ => throw new PickleException($"REDUCE calls a {PyFormat.TypeName(callable)}, which is not callable"),
    };

    public object? NewObject(object? cls, PyTuple args) => cls switch
    {
        KnownGlobal g => g.Invoke(args),
        PyGlobal g => new PyObject(g, args),
        _ => throw new PickleException($"NEWOBJ on a {PyFormat.TypeName(cls)}, which is not a class"),
    };

    public void Build(object? target, object? state)
    {
        switch (target)
        {
            case PyObject obj:
                obj.State = state;
                break;
            case PyDict or TensorRef or List<object?> or PySet:
                // Attribute state of a dict subclass (OrderedDict._metadata, AttributeDict) or of a
                // tensor (_rebuild_from_type_v2): nothing the state dict needs.
                break;
            default:
                throw new PickleException($"BUILD on a {PyFormat.TypeName(target)}");
        }
    }

    public object? PersistentLoad(object? pid)
    {
        if (pid is not PyTuple { Count: > 0 } t)
            throw new PickleException($"persistent id {PyFormat.Describe(pid)} is not a tuple");
        var typename = AsText(t[0]);
        switch (typename)
        {
            case "storage" when t.Count is 5 or 6:
                return LoadStorage(t);
            case "module" when t.Count >= 2:
                // Legacy files of whole pickled modules: ('module', class, source file, source). The class stays a placeholder.
                return t[1];
            default:
                throw new PickleException($"unknown persistent id {PyFormat.Describe(pid)}");
        }
    }

    private StorageRef LoadStorage(PyTuple pid)
    {
        if (pid[1] is not StorageType type)
            throw new PickleException($"persistent id names storage class {PyFormat.Describe(pid[1])}, which is not a supported torch storage type");
        var key = pid[2] switch
        {
            string s => s,
            long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
            byte[] b => Encoding.ASCII.GetString(b),
            var other => throw new PickleException($"storage key {PyFormat.Describe(other)} is not a string"),
        };
        var location = AsText(pid[3]) ?? "cpu";
        if (pid[4] is not long numel || numel < 0 || numel > long.MaxValue / 8)
            throw new PickleException($"storage '{key}' has an invalid element count {PyFormat.Describe(pid[4])}");

        if (_roots.TryGetValue(key, out var root))
        {
            if (root.DType != type.DType || root.Numel != numel)
                throw new PickleException($"storage '{key}' is described twice, as {root.Numel} x {root.DType} and as {numel} x {type.DType}");
        }
        else
        {
            root = new StorageRoot(key, type.DType, numel, location);
            _roots[key] = root;
        }

        if (pid.Count == 6 && pid[5] is not null)
        {
            // Legacy view metadata: (view_key, offset, size) in elements of the root storage.
            if (pid[5] is not PyTuple { Count: 3 } view || view[1] is not long offset || view[2] is not long size
                || offset < 0 || size < 0 || offset > numel || size > numel - offset)
                throw new PickleException($"storage '{key}' has an invalid view {PyFormat.Describe(pid[5])}");
            return new StorageRef(root, offset, size);
        }
        return new StorageRef(root, 0, numel);
    }

    private static string? AsText(object? value) => value switch
    {
        string s => s,
        byte[] b => Encoding.ASCII.GetString(b),
        _ => null,
    };

    // ---- the table of known globals

    private IEnumerable<KnownGlobal> BuildTable()
    {
        yield return new("torch._utils", "_rebuild_tensor_v2", args => RebuildTensor(args, "_rebuild_tensor_v2"));
        yield return new("torch._utils", "_rebuild_tensor", args => RebuildTensor(args, "_rebuild_tensor"));
        yield return new("torch._utils", "_rebuild_parameter", args => FirstArg(args, "_rebuild_parameter"));
        yield return new("torch._utils", "_rebuild_parameter_with_state", args => FirstArg(args, "_rebuild_parameter_with_state"));
        yield return new("torch._tensor", "_rebuild_from_type_v2", RebuildFromType);
        yield return new("torch._tensor", "_rebuild_from_type", RebuildFromType);
        yield return new("torch", "Size", args => args.Count == 0 ? PyTuple.Empty : ToTuple(args[0]));
        yield return new("torch", "device", args => string.Join(":", args.Items.Select(a => a?.ToString())));
        yield return new("_codecs", "encode", Encode);

        // TorchScript's typed containers: build_intlist([1, 2]) is just the list; restore_type_tag(value, type) the value.
        foreach (var name in new[] { "build_intlist", "build_tensorlist", "build_doublelist", "build_boollist", "build_complexlist" })
            yield return new("torch.jit._pickle", name, args => FirstArg(args, name));
        yield return new("torch.jit._pickle", "restore_type_tag", args => FirstArg(args, "restore_type_tag"));

        foreach (var module in new[] { "collections", "builtins", "__builtin__" })
        {
            yield return new(module, module == "collections" ? "OrderedDict" : "dict", args => ToDict(args, module == "collections" ? "collections.OrderedDict" : null));
        }
        yield return new("collections", "defaultdict", _ => new PyDict { ClassName = "collections.defaultdict" });
        foreach (var module in new[] { "builtins", "__builtin__" })
        {
            yield return new(module, "set", args => ToSet(args, frozen: false));
            yield return new(module, "frozenset", args => ToSet(args, frozen: true));
            yield return new(module, "list", args => args.Count == 0 ? new List<object?>() : new List<object?>(Iterate(args[0])));
            yield return new(module, "tuple", args => args.Count == 0 ? PyTuple.Empty : ToTuple(args[0]));
            // Enum members since Python 3.11: getattr(MyEnum, 'NAME'), answered only for inert placeholders.
            yield return new(module, "getattr", InertAttributeLookup.Getattr);
        }

        // Lightning's hparams container is a dict subclass with attribute access.
        foreach (var module in new[] { "pytorch_lightning.utilities.parsing", "lightning.pytorch.utilities.parsing", "lightning.fabric.utilities.data", "lightning_fabric.utilities.data" })
            yield return new(module, "AttributeDict", args => ToDict(args, module + ".AttributeDict"));

        // copyreg helpers protocol 0/1 pickles use for objects of plain classes.
        yield return new("copyreg", "_reconstructor", args =>
        {
            if (args.Count < 1) throw new PickleException("copyreg._reconstructor without a class");
            var obj = NewObject(args[0], PyTuple.Empty);
            if (args.Count >= 3 && args[2] is not null && obj is PyObject p) p.State = args[2];
            return obj;
        });
        yield return new("copyreg", "__newobj__", args =>
            args.Count < 1 ? throw new PickleException("copyreg.__newobj__ without a class") : NewObject(args[0], new PyTuple(args.Items[1..])));
    }

    private static object? FirstArg(PyTuple args, string what) =>
        args.Count >= 1 ? args[0] : throw new PickleException($"{what} called without arguments");

    private object? RebuildFromType(PyTuple args)
    {
        // (func, type, args, state): rebuild with func(*args), ignore the subclass and its state.
        if (args.Count < 3 || args[2] is not PyTuple inner)
            throw new PickleException("malformed _rebuild_from_type arguments");
        return Call(args[0], inner);
    }

    private static TensorRef RebuildTensor(PyTuple args, string what)
    {
        if (args.Count < 4)
            throw new PickleException($"{what} needs (storage, offset, size, stride, ...), got {args.Count} arguments");
        if (args[0] is not StorageRef storage)
            throw new PickleException($"{what} storage argument is a {PyFormat.TypeName(args[0])}, not a torch storage");
        if (args[1] is not long offset || offset < 0)
            throw new PickleException($"{what} has an invalid storage offset {PyFormat.Describe(args[1])}");
        var size = ToLongs(args[2], what, "size");
        var stride = ToLongs(args[3], what, "stride");
        if (size.Length != stride.Length)
            throw new PickleException($"{what} has size {PyFormat.Describe(args[2])} and stride {PyFormat.Describe(args[3])} of different lengths");
        CheckInside(storage, offset, size, stride, what);
        return new TensorRef(storage, offset, size, stride);
    }

    private static void CheckInside(StorageRef storage, long offset, long[] size, long[] stride, string what)
    {
        try
        {
            long elements = size.Aggregate(1L, (a, b) => checked(a * b));
            if (elements == 0) return;
            long last = offset;
            for (int i = 0; i < size.Length; i++) last = checked(last + (size[i] - 1) * stride[i]);
            if (last >= storage.Numel)
                throw new PickleException($"{what} view (offset {offset}, size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}]) reaches element {last} of a {storage.Numel}-element storage '{storage.Root.Key}'");
        }
        catch (OverflowException)
        {
            throw new PickleException($"{what} size [{string.Join(", ", size)}] / stride [{string.Join(", ", stride)}] overflow");
        }
    }

    private static long[] ToLongs(object? value, string what, string field)
    {
        if (value is not PyTuple t)
            throw new PickleException($"{what} {field} is a {PyFormat.TypeName(value)}, not a tuple");
        var result = new long[t.Count];
        for (int i = 0; i < t.Count; i++)
        {
            if (t[i] is not long v || v < 0)
                throw new PickleException($"{what} {field} {PyFormat.Describe(t)} holds {PyFormat.Describe(t[i])}, not a non-negative integer");
            result[i] = v;
        }
        return result;
    }

    private static PyTuple ToTuple(object? value) => value as PyTuple ?? new PyTuple(Iterate(value).ToArray());

    private static IEnumerable<object?> Iterate(object? value) => value switch
    {
        PyTuple t => t.Items,
        List<object?> l => l,
        PySet s => s.Items,
        PyDict d => d.Items.Select(kv => kv.Key),
        _ => throw new PickleException($"cannot iterate over a {PyFormat.TypeName(value)}"),
    };

    private static PyDict ToDict(PyTuple args, string? className)
    {
        var dict = new PyDict { ClassName = className };
        if (args.Count == 0 || args[0] is null) return dict;
        if (args[0] is PyDict source)
        {
            foreach (var kv in source.Items) dict.Set(kv.Key, kv.Value);
            return dict;
        }
        foreach (var pair in Iterate(args[0]))
        {
            if (pair is not PyTuple { Count: 2 } kv && pair is not List<object?> { Count: 2 })
                throw new PickleException($"dict item {PyFormat.Describe(pair)} is not a pair");
            var items = Iterate(pair).ToArray();
            dict.Set(items[0], items[1]);
        }
        return dict;
    }

    private static PySet ToSet(PyTuple args, bool frozen)
    {
        var set = new PySet { Frozen = frozen };
        if (args.Count > 0) set.Items.AddRange(Iterate(args[0]));
        return set;
    }

    private static object Encode(PyTuple args)
    {
        // _codecs.encode(text, 'latin1'): how protocol 2 spells a bytes object.
        if (args.Count < 1 || args[0] is not string text)
            throw new PickleException("_codecs.encode needs a string");
        var encoding = args.Count > 1 ? args[1] as string : "utf-8";
        return encoding?.ToLowerInvariant() switch
        {
            "latin1" or "latin-1" or "iso-8859-1" => Encoding.Latin1.GetBytes(text),
            "utf-8" or "utf8" or null => Encoding.UTF8.GetBytes(text),
            "ascii" => Encoding.ASCII.GetBytes(text),
            var other => throw new PickleException($"_codecs.encode with unsupported encoding '{other}'"),
        };
    }
}
