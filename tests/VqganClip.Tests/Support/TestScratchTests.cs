namespace VqganClip.Tests;

public class TestScratchTests
{
    [Fact]
    public void Temporary_files_of_the_run_go_to_this_process_scratch_folder()
    {
        Assert.EndsWith("vqgan-clip-tests-" + Environment.ProcessId, TestScratch.Root);
        Assert.StartsWith(TestScratch.Root, Path.GetTempPath());
        var dir = Directory.CreateTempSubdirectory("scratch-check").FullName;
        Assert.StartsWith(TestScratch.Root, dir);
    }

    [Fact]
    public void Folders_of_runs_that_died_are_removed_and_live_ones_kept()
    {
        var parent = Directory.CreateTempSubdirectory("scratch-parent").FullName;
        // int.MaxValue is above Linux's pid_max, so no process has it.
        var dead = Directory.CreateDirectory(Path.Combine(parent, "vqgan-clip-tests-" + int.MaxValue)).FullName;
        File.WriteAllText(Path.Combine(dead, "left.txt"), "left by a killed run");
        var live = Directory.CreateDirectory(Path.Combine(parent, "vqgan-clip-tests-" + Environment.ProcessId)).FullName;
        var other = Directory.CreateDirectory(Path.Combine(parent, "vqgan-clip-tests-notapid")).FullName;

        TestScratch.RemoveOrphans(parent);

        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(other));
    }
}
