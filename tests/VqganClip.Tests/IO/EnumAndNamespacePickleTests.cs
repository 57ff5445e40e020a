using VqganClip.Models.IO;

namespace VqganClip.Tests.IO;

/// <summary>
/// What real training checkpoints carry beside their weights: Python 3.11+ enum members (pickled as
/// <c>getattr(MyEnum, 'NAME')</c>) and <c>types.SimpleNamespace</c> hyper-parameters. Both are inert data, so the
/// tensors load; getattr on anything but an unknown class's placeholder is still refused.
/// </summary>
public class EnumAndNamespacePickleTests
{
    private const string Refused = "which can run code; nothing was executed and the file is refused";

    private static readonly Dictionary<string, byte[]> OneStorage = new() { ["data/0"] = PickleBytesExtensions.Floats(1, 2, 3, 4) };

    private static PickleBytes EnumMember(PickleBytes p, string module, string cls, string member) =>
        p.Global("builtins", "getattr").Global(module, cls).Str(member).Op(0x86).Reduce();

    // The same through STACK_GLOBAL, as protocol 4+ (Python 3.8+ default) writes it.
    private static PickleBytes EnumMemberStackGlobal(PickleBytes p, string module, string cls, string member) =>
        p.Str("builtins").Str("getattr").Op(0x93).Str(module).Str(cls).Op(0x93).Str(member).Op(0x86).Reduce();

    private static string WriteLightningStyle(IoFixtures.TempDir dir, Func<PickleBytes, PickleBytes> hyperParameters)
    {
        var path = dir.File("trained.ckpt");
        var p = new PickleBytes().EmptyDict()
            .Str("epoch").Int(7).SetItem()
            .Str("hyper_parameters");
        hyperParameters(p).SetItem()
            .Str("state_dict").EmptyDict()
                .Str("encoder.w").FloatTensor("0", 4, 0, [2, 2], [2, 1]).SetItem()
                .Str("encoder.b").FloatTensor("0", 4, 2, [2], [1]).SetItem()
                .SetItem()
            .Stop();
        PickleBytes.WriteZip(path, p.ToArray(), records: OneStorage);
        return path;
    }

    private static void AssertWeightsLoad(string path)
    {
        using var sd = Checkpoint.Load(path);
        Assert.Equal(["encoder.w", "encoder.b"], sd.Keys);
        Assert.Equal([1f, 2f, 3f, 4f], sd["encoder.w"].clone().flatten().data<float>().ToArray());
        Assert.Equal([3f, 4f], sd["encoder.b"].clone().data<float>().ToArray());
        Assert.Equal("7", sd.Metadata["epoch"]);
        var info = Checkpoint.Inspect(path);
        Assert.Equal(["encoder.w", "encoder.b"], info.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void An_enum_member_in_the_hyper_parameters_is_inert_and_the_weights_load()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = WriteLightningStyle(dir, p =>
        {
            p.EmptyDict().Str("mode");
            EnumMember(p, "mytraining.modes", "Mode", "FAST").SetItem();
            p.Str("precision");
            return EnumMemberStackGlobal(p, "mytraining.modes", "Precision", "BF16").SetItem();
        });
        AssertWeightsLoad(path);
    }

    [Fact]
    public void A_SimpleNamespace_in_the_hyper_parameters_is_inert_and_the_weights_load()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = WriteLightningStyle(dir, p => p.EmptyDict()
            // SimpleNamespace.__reduce__: (SimpleNamespace, (), {attributes}) -> REDUCE then BUILD.
            .Str("args").Global("types", "SimpleNamespace").EmptyTuple().Reduce()
                .EmptyDict().Str("lr").Int(3).SetItem().Str("name").Str("run-1").SetItem().Op('b').SetItem()
            // copyreg's protocol 2 form: NEWOBJ then BUILD, with an enum member inside.
            .Str("optim").Global("types", "SimpleNamespace").EmptyTuple().Op(0x81)
                .EmptyDict().Str("kind").Apply(q => EnumMember(q, "mytraining.modes", "Optim", "ADAM")).SetItem().Op('b').SetItem());
        AssertWeightsLoad(path);
    }

    [Fact]
    public void A_SimpleNamespace_where_a_tensor_belongs_is_still_an_error_naming_it()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("odd.pt");
        var pickle = new PickleBytes().EmptyDict()
            .Str("w").FloatTensor("0", 4, 0, [4], [1]).SetItem()
            .Str("cfg").Global("types", "SimpleNamespace").EmptyTuple().Reduce().SetItem()
            .Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, records: OneStorage);
        var e = Assert.Throws<CheckpointFormatException>(() => { using var sd = Checkpoint.Load(path); });
        Assert.Contains("state dict entry 'cfg' is not a tensor but an object built by types.SimpleNamespace (not executed)", e.Message);
    }

    public static TheoryData<string, string> GetattrOnCode => new()
    {
        // getattr(__import__('os'), 'system')('...'): refused at __import__.
        { "import-os", $"pickle references builtins.__import__, {Refused}" },
        // getattr(os.system, ...): refused at the global itself.
        { "os-system", $"pickle references os.system, {Refused}" },
        // getattr on something the reader gives meaning to, or a dunder attribute of a placeholder.
        { "rebuild-globals", $"pickle calls getattr(torch._utils._rebuild_tensor_v2, '__globals__'), {Refused}" },
        { "ordereddict", $"pickle calls getattr(collections.OrderedDict, 'fromkeys'), {Refused}" },
        { "dunder", $"pickle calls getattr(mytraining.modes.Mode, '__reduce_ex__'), {Refused}" },
        { "object", $"pickle calls getattr(a mytraining.modes.Mode object, 'FAST'), {Refused}" },
        { "not-a-name", $"pickle calls getattr(mytraining.modes.Mode, 42), {Refused}" },
        { "function-type", $"pickle references types.FunctionType, {Refused}" },
    };

    [Theory]
    [MemberData(nameof(GetattrOnCode))]
    public void Getattr_on_anything_that_could_run_code_is_still_refused(string variant, string message)
    {
        using var dir = IoFixtures.NewTempDir();
        var marker = dir.File("pwned");
        var path = dir.File("evil.pt");
        var p = new PickleBytes().EmptyDict().Str("w").FloatTensor("0", 4, 0, [4], [1]).SetItem().Str("x");
        var getattr = p.Global("builtins", "getattr");
        _ = variant switch
        {
            "import-os" => getattr.Global("builtins", "__import__").Str("os").Tuple1().Reduce().Str("system"),
            "os-system" => getattr.Global("os", "system").Str("__call__"),
            "rebuild-globals" => getattr.Global("torch._utils", "_rebuild_tensor_v2").Str("__globals__"),
            "ordereddict" => getattr.Global("collections", "OrderedDict").Str("fromkeys"),
            "dunder" => getattr.Global("mytraining.modes", "Mode").Str("__reduce_ex__"),
            "object" => getattr.Global("mytraining.modes", "Mode").EmptyTuple().Reduce().Str("FAST"),
            "not-a-name" => getattr.Global("mytraining.modes", "Mode").Int(42),
            "function-type" => getattr.Global("types", "FunctionType").Str("__call__"),
            _ => throw new ArgumentException(variant),
        };
        p.Op(0x86).Reduce().Str($"touch {marker}").Tuple1().Reduce().SetItem().Stop();
        PickleBytes.WriteZip(path, p.ToArray(), records: OneStorage);

        var e = Assert.Throws<CheckpointFormatException>(() => { using var sd = Checkpoint.Load(path); });
        Assert.Contains($"'{path}'", e.Message);
        Assert.Contains(message, e.Message);
        Assert.Equal(e.Problem, Assert.Throws<CheckpointFormatException>(() => Checkpoint.Inspect(path)).Problem);
        Assert.False(File.Exists(marker), "the pickle's command ran");
    }
}
