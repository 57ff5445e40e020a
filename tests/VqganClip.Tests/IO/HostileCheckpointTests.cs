using VqganClip.Models.IO;

namespace VqganClip.Tests.IO;

/// <summary>
/// Corrupted and malicious torch files. Policy under test: globals that can only mean code execution
/// (os.system, subprocess.Popen, eval, ...) are refused at once with a CheckpointFormatException naming
/// them; other unknown globals become inert placeholders, and a placeholder where a tensor should be
/// is an error naming the global. Nothing is ever executed.
/// </summary>
public class HostileCheckpointTests
{
    private static CheckpointFormatException LoadFails(string path)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => { using var sd = Checkpoint.Load(path); });
        Assert.Contains(path, e.Message);
        // Inspect must refuse the same file for the same reason.
        var inspect = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Inspect(path));
        Assert.Equal(e.Problem, inspect.Problem);
        return e;
    }

    private static byte[] RunShell(string module, string function, string command) =>
        new PickleBytes().Global(module, function).Str(command).Tuple1().Reduce().Stop().ToArray();

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("subprocess", "Popen")]
    [InlineData("builtins", "eval")]
    public void A_zip_whose_pickle_would_run_a_command_is_refused_and_nothing_runs(string module, string function)
    {
        using var dir = IoFixtures.NewTempDir();
        var marker = dir.File("pwned");
        var path = dir.File("evil.pt");
        var command = function == "eval" ? $"__import__('os').system('touch {marker}')" : $"touch {marker}";
        PickleBytes.WriteZip(path, RunShell(module, function, command));

        var e = LoadFails(path);
        Assert.Contains($"{module}.{function}", e.Message);
        Assert.Contains("nothing was executed", e.Message);
        Assert.False(File.Exists(marker), "the pickle's command ran");
    }

    [Fact]
    public void A_command_hidden_inside_a_state_dict_is_refused()
    {
        using var dir = IoFixtures.NewTempDir();
        var marker = dir.File("pwned");
        var path = dir.File("evil.ckpt");
        var pickle = new PickleBytes().EmptyDict()
            .Str("w").FloatTensor("0", 4, 0, [2, 2], [2, 1]).SetItem()
            .Str("b").Global("subprocess", "Popen").Mark().Str("touch").Str(marker).Op('l').Tuple1().Reduce().SetItem()
            .Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, records: new Dictionary<string, byte[]> { ["data/0"] = PickleBytesExtensions.Floats(1, 2, 3, 4) });
        Assert.Contains("subprocess.Popen", LoadFails(path).Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void An_unknown_class_where_a_tensor_belongs_is_an_error_naming_it()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("odd.pt");
        var pickle = new PickleBytes().EmptyDict()
            .Str("w").FloatTensor("0", 4, 0, [2, 2], [2, 1]).SetItem()
            .Str("x").Global("mypackage.things", "Gadget").EmptyTuple().Reduce().SetItem()
            .Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, records: new Dictionary<string, byte[]> { ["data/0"] = PickleBytesExtensions.Floats(1, 2, 3, 4) });
        var e = LoadFails(path);
        Assert.Contains("'x' is not a tensor but an object built by mypackage.things.Gadget", e.Message);
    }

    [Fact]
    public void A_whole_pickled_object_is_not_a_state_dict()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("model.pt");
        PickleBytes.WriteZip(path, new PickleBytes().Global("mymodels", "Net").EmptyTuple().Op(0x81).EmptyDict().Op('b').Stop().ToArray());
        Assert.Contains("pickled mymodels.Net object, not a state dict", LoadFails(path).Message);
    }

    [Fact]
    public void A_bogus_huge_string_length_is_rejected_before_allocating()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("huge.pt");
        PickleBytes.WriteZip(path, new PickleBytes().EmptyDict().StrClaiming(0xFFFFFFF0, "abc").Stop().ToArray());
        Assert.Contains("claims a 4294967280-byte string but only 4 bytes remain", LoadFails(path).Message);
    }

    [Fact]
    public void Deeply_nested_pickles_do_not_overflow_the_stack()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("deep.pt");
        var p = new PickleBytes().Op(')');
        for (int i = 0; i < 200_000; i++) p.Tuple1();
        PickleBytes.WriteZip(path, p.Stop().ToArray());
        Assert.Contains("top-level object is a tuple, not a state dict", LoadFails(path).Message);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'h', 7 }, "memo entry 7, which was never stored")]
    [InlineData(new byte[] { (byte)'t' }, "MARK it never set")]
    [InlineData(new byte[] { (byte)'0' }, "empty stack")]
    [InlineData(new byte[] { 0xff }, "unknown pickle opcode 0xff")]
    [InlineData(new byte[] { (byte)'}' }, "without a STOP opcode")]
    [InlineData(new byte[] { (byte)'}', (byte)'}', (byte)'.' }, "STOP with 2 values")]
    [InlineData(new byte[] { 0x8a, 0xff }, "truncated")]
    public void Malformed_pickles_are_rejected_with_the_problem_named(byte[] body, string problem)
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("bad.pt");
        var p = new PickleBytes();
        foreach (var b in body) p.Op(b);
        PickleBytes.WriteZip(path, p.ToArray());
        var e = LoadFails(path);
        Assert.Contains(problem, e.Message);
        Assert.Contains("(opcode at byte", e.Message);
    }

    [Fact]
    public void Storage_records_missing_or_too_short_are_rejected()
    {
        using var dir = IoFixtures.NewTempDir();
        var pickle = new PickleBytes().EmptyDict().Str("w").FloatTensor("0", 4, 0, [2, 2], [2, 1]).SetItem().Stop().ToArray();

        var missing = dir.File("missing.pt");
        PickleBytes.WriteZip(missing, pickle);
        Assert.Contains("storage record 'archive/data/0' named by the pickle is missing", LoadFails(missing).Message);

        var shortRecord = dir.File("short.pt");
        PickleBytes.WriteZip(shortRecord, pickle, records: new Dictionary<string, byte[]> { ["data/0"] = new byte[8] });
        Assert.Contains("holds 8 bytes but the pickle needs 16", LoadFails(shortRecord).Message);
    }

    [Fact]
    public void A_view_reaching_outside_its_storage_is_rejected()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("outside.pt");
        var pickle = new PickleBytes().EmptyDict().Str("w").FloatTensor("0", 4, 1, [2, 2], [2, 1]).SetItem().Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, records: new Dictionary<string, byte[]> { ["data/0"] = new byte[16] });
        Assert.Contains("reaches element 4 of a 4-element storage", LoadFails(path).Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void Truncated_zip_checkpoints_are_rejected(double keep)
    {
        using var dir = IoFixtures.NewTempDir();
        var bytes = File.ReadAllBytes(IoFixtures.Clip("openai_state_dict.pt"));
        var path = dir.File("cut.pt");
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);
        Assert.Contains("not a readable zip archive", LoadFails(path).Message);
    }

    [Theory]
    [InlineData(100, "truncated")]
    [InlineData(20_000, "truncated")]
    [InlineData(-1000, "truncated")]
    public void Truncated_legacy_checkpoints_are_rejected(int cut, string problem)
    {
        using var dir = IoFixtures.NewTempDir();
        var bytes = File.ReadAllBytes(IoFixtures.Vqgan("last_legacy.ckpt"));
        var path = dir.File("cut.ckpt");
        File.WriteAllBytes(path, bytes[..(cut > 0 ? cut : bytes.Length + cut)]);
        var e = LoadFails(path);
        Assert.Equal(CheckpointFormats.TorchLegacy, e.Format);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Unknown_bytes_and_empty_files_are_named_as_such()
    {
        using var dir = IoFixtures.NewTempDir();
        var empty = dir.File("empty.bin");
        File.WriteAllBytes(empty, []);
        Assert.Contains("file is empty", LoadFails(empty).Message);
        var text = dir.File("notes.ckpt");
        File.WriteAllText(text, "hello, I am not a checkpoint");
        Assert.Contains("unrecognised checkpoint format", LoadFails(text).Message);
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(dir.File("absent.pt")));
    }

    [Fact]
    public void Unknown_classes_outside_the_state_dict_stay_inert_placeholders_and_the_weights_load()
    {
        using var dir = IoFixtures.NewTempDir();
        var path = dir.File("lightning.ckpt");
        var pickle = new PickleBytes().EmptyDict()
            .Str("epoch").Int(3).SetItem()
            .Str("hyper_parameters").Global("mytraining.config", "Settings").Mark().Str("lr").Int(1).Op('d').Tuple1().Reduce()
                .EmptyDict().Str("seen").Op(0x88).SetItem().Op('b').SetItem()
            .Str("state_dict").EmptyDict()
                .Str("w").FloatTensor("0", 4, 0, [2, 2], [2, 1]).SetItem()
                .Str("w").FloatTensor("0", 4, 0, [4], [1]).SetItem() // a repeated key: the last value wins, as in Python
                .SetItem()
            .Stop().ToArray();
        PickleBytes.WriteZip(path, pickle, records: new Dictionary<string, byte[]> { ["data/0"] = PickleBytesExtensions.Floats(1, 2, 3, 4) });

        using var sd = Checkpoint.Load(path);
        Assert.Equal(["w"], sd.Keys);
        Assert.Equal([4L], sd["w"].shape);
        Assert.Equal("3", sd.Metadata["epoch"]);
        Assert.False(sd.Metadata.ContainsKey("hyper_parameters"));
    }
}
