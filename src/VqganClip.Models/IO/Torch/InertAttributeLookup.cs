using VqganClip.Models.IO.Pickle;

namespace VqganClip.Models.IO.Torch;

/// <summary>
/// The one use of <c>builtins.getattr</c> a checkpoint pickle has a reason for: Python 3.11+ pickles an enum
/// member as <c>getattr(MyEnum, 'MEMBER')</c> (Enum.__reduce_ex__), e.g. in a trainer's hyper-parameters.
/// It is answered only when the target is an inert placeholder for an unknown class and the attribute a plain
/// name: the result is another placeholder (<c>module.MyEnum.MEMBER</c>) and nothing is looked up. getattr on
/// anything the reader gives real meaning (a tensor rebuilder, a storage class, a container), on an object,
/// or for a dunder name (<c>__globals__</c>, <c>__builtins__</c>, ...) is how pickle exploits reach code,
/// so the file is refused.
/// </summary>
internal static class InertAttributeLookup
{
    public static object? Getattr(PyTuple args)
    {
        if (args.Count != 2)
            throw Refused($"getattr with {args.Count} arguments");
        if (args[1] is not string attribute || !IsPlainName(attribute))
            throw Refused($"getattr({Describe(args[0])}, {PyFormat.Describe(args[1])})");
        if (args[0] is not PyGlobal owner)
            throw Refused($"getattr({Describe(args[0])}, '{attribute}')");
        return new PyGlobal(owner.Module, owner.Name + "." + attribute);
    }

    private static PickleException Refused(string call) =>
        new($"pickle calls {call}, which can run code; nothing was executed and the file is refused " +
            "(getattr is only read for an enum member of an unknown class)");

    // An identifier that is not a dunder: enum members are plain names; __globals__ and friends lead to code.
    private static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 200
        && (char.IsLetter(name[0]) || name[0] == '_')
        && name.All(c => char.IsLetterOrDigit(c) || c == '_')
        && !(name.StartsWith("__", StringComparison.Ordinal) && name.EndsWith("__", StringComparison.Ordinal));

    private static string Describe(object? target) => target switch
    {
        KnownGlobal g => g.FullName,
        StorageType s => "torch." + s.Name,
        PyGlobal g => g.FullName,
        PyObject o => $"a {o.Type.FullName} object",
        _ => "a " + PyFormat.TypeName(target),
    };
}
