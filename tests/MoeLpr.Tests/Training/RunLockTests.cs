using System.Diagnostics;
using System.Text.Json;
using MoeLpr.Checkpoints;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

/// <summary>
/// One run per output folder: a second run into a folder held by a live run is one error naming the folder and the
/// holder; a lock left by a killed run does not block <c>--resume</c>.
/// </summary>
public class RunLockTests
{
    static string[] Train(TinyTrainingWorkspace ws, string output, params string[] more) => Train(ws, output, 4, more);

    static string[] Train(TinyTrainingWorkspace ws, string output, int steps, params string[] more) =>
    [
        "train", "--stage", "1", "--model", ws.ModelDir, "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
        "--output", output, "--num-experts", "3", "--cutoff-len", "32", "--batch-size", "2", "--lr", "0.01",
        "--max-steps", $"{steps}", "--save-steps", "2", "--seed", "7", "--device", "cpu", "--threads", "1", .. more,
    ];

    static void WriteLock(string dir, RunLockHolder holder)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, RunLock.FileName), JsonSerializer.Serialize(holder));
    }

    /// <summary>A pid no process has (Linux pids stop at 2^22).</summary>
    const int DeadPid = 99_999_999;

    [Fact]
    public void SecondRunIntoAFolderALiveRunHolds_IsOneErrorNamingTheFolderAndTheHolder()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("run");
        var live = RunLockHolder.ThisProcess() with { Started = new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc) };
        WriteLock(output, live);

        var second = CliRunner.Run(Train(ws, output));

        Assert.Equal(1, second.ExitCode);
        Assert.Equal($"error: {output}: another run is writing to this folder (pid {Environment.ProcessId}, " +
                     "started 2026-05-01T10:00:00Z); wait for it to finish or choose another --output",
                     second.Error.TrimEnd());
        Assert.Equal([RunLock.FileName], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
        Assert.Equal(live.Token, JsonSerializer.Deserialize<RunLockHolder>(
            File.ReadAllText(Path.Combine(output, RunLock.FileName)))!.Token);
    }

    [Fact]
    public void ALockHeldInThisProcess_RefusesAnotherAcquire_AndIsGoneAfterRelease()
    {
        using var temp = new TempDirectory();
        string dir = temp.File("out");
        using (var held = RunLock.Acquire(dir))
        {
            Assert.True(File.Exists(held.Path));
            var error = Assert.Throws<IOException>(() => RunLock.Acquire(dir));
            Assert.StartsWith($"{dir}: another run is writing to this folder (pid {Environment.ProcessId}, started ",
                              error.Message);
        }
        Assert.False(Directory.Exists(dir), "an empty folder the run created goes with its lock");
        using (RunLock.Acquire(dir)) { }
    }

    [Fact]
    public void AnOutputThatIsAFile_IsOneErrorSayingSo()
    {
        using var ws = new TinyTrainingWorkspace();
        string file = ws.Output("a-file");
        File.WriteAllText(file, "not a folder");
        var run = CliRunner.Run(Train(ws, file));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {file}: is a file; the output of a run is a folder", run.Error.TrimEnd());
    }

    [Fact]
    public void LockOfAKilledRun_DoesNotBlockResume()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("run");
        using (var stop = new CancellationTokenSource())
        {
            stop.Cancel();
            var options = ws.Options(TrainingStage.Stage1, output, "new_text");
            Assert.False(TrainingRun.Run(options, TextWriter.Null, stop.Token).Completed);
        }
        Assert.NotNull(TrainingCheckpoint.FindLatest(output));
        WriteLock(output, RunLockHolder.ThisProcess() with { Pid = DeadPid });

        var resumed = CliRunner.Run(Train(ws, output, "--resume"));

        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("resuming", resumed.Output);
        Assert.False(File.Exists(Path.Combine(output, RunLock.FileName)), "the run released its lock");
    }

    [Fact]
    public void LockWhosePidNowBelongsToAnotherProcess_IsStale()
    {
        using var temp = new TempDirectory();
        string dir = temp.File("out");
        var reused = RunLockHolder.ThisProcess() with { ProcessStart = DateTime.UtcNow.AddHours(-3) };
        Assert.False(reused.IsAlive());
        WriteLock(dir, reused);

        using var taken = RunLock.Acquire(dir);

        var written = JsonSerializer.Deserialize<RunLockHolder>(File.ReadAllText(taken.Path))!;
        Assert.Equal(taken.Holder.Token, written.Token);
        Assert.Empty(Directory.GetFiles(dir, "*.stale"));
    }

    [Fact]
    public void ADamagedLockIsAnErrorThatSaysWhatToDo()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path, path = Path.Combine(dir, RunLock.FileName);
        File.WriteAllText(path, "{\"pid\":");
        var error = Assert.Throws<IOException>(() => RunLock.Acquire(dir));
        Assert.Equal($"{dir}: {path} is being written by a run that is starting, or is damaged; " +
                     "if no run is writing to this folder, delete it", error.Message);
    }

    /// <summary>
    /// With real processes: a second <c>train</c> into the folder of a running one is refused naming the child's pid;
    /// once the child is killed, <c>--resume</c> takes its lock over and finishes the run.
    /// </summary>
    [Fact]
    public void RealConcurrentRunIsRefused_AndAfterTheKillResumeTakesOver()
    {
        using var ws = new TinyTrainingWorkspace();
        string output = ws.Output("run");
        string[] Long(params string[] more) => Train(ws, output, 200, more);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MoeLpr.Cli.dll"));
        foreach (var arg in Long()) start.ArgumentList.Add(arg);
        int childPid;
        using (var child = Process.Start(start)!)
        {
            childPid = child.Id;
            child.OutputDataReceived += (_, _) => { };
            child.ErrorDataReceived += (_, _) => { };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(120);
                while (TrainingCheckpoint.FindLatest(output) is null && !child.HasExited && DateTime.UtcNow < deadline)
                    Thread.Sleep(5);
                Assert.False(child.HasExited, "the child ended before the second run started");

                var second = CliRunner.Run(Long());

                Assert.Equal(1, second.ExitCode);
                Assert.StartsWith($"error: {output}: another run is writing to this folder (pid {childPid}, started ",
                                  second.Error);
                Assert.Single(second.Error.TrimEnd().Split('\n'));
            }
            finally
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
            }
        }
        Assert.Equal(childPid, JsonSerializer.Deserialize<RunLockHolder>(
            File.ReadAllText(Path.Combine(output, RunLock.FileName)))!.Pid);

        var resumed = CliRunner.Run(Long("--resume"));

        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("resuming", resumed.Output);
        Assert.True(File.Exists(Path.Combine(output, PeftAdapterFiles.WeightsFileName)));
        Assert.False(File.Exists(Path.Combine(output, RunLock.FileName)));
    }
}
