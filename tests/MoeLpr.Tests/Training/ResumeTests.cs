using System.Collections.Concurrent;
using System.Diagnostics;
using MoeLpr.Checkpoints;
using MoeLpr.Cli.Commands;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

/// <summary>
/// An interrupted run, resumed, ends bit-identical to one that was never interrupted (CPU; float32, and bfloat16, whose
/// float32 master weights the checkpoint keeps).
/// </summary>
public class ResumeTests
{
    [Theory]
    [InlineData(TrainingStage.Stage1, "float32")]
    [InlineData(TrainingStage.Stage1, "bfloat16")]
    [InlineData(TrainingStage.Full, "float32")]
    [InlineData(TrainingStage.Lora, "float32")]
    public void CancelledRun_Resumed_EqualsUninterruptedRun_AcrossAnEpochBoundary(TrainingStage stage, string dtype)
    {
        using var ws = new TinyTrainingWorkspace();
        // 14 steps × 2 micro-batches × 2 blocks needs more blocks than one epoch has, so the resumed run also
        // re-creates the next epoch's shuffled order.
        var options = ws.Options(stage, ws.Output("whole"), "new_text") with
        {
            Optimization = TinyTrainingWorkspace.FastOptimization with { MaxSteps = 14, GradientAccumulationSteps = 2 },
            Dtype = dtype,
        };
        string weightsFile = stage == TrainingStage.Full ? HfModelDirectory.WeightsFileName
            : PeftAdapterFiles.WeightsFileName;
        if (stage == TrainingStage.Lora) options = options with { Lora = new() { Rank = 4, Dropout = 0.1 } };
        TrainingRun.Run(options, TextWriter.Null);

        var interrupted = options with { OutputDir = ws.Output("interrupted") };
        using (var cancelled = new CancellationTokenSource())
        {
            cancelled.Cancel();
            var stopped = TrainingRun.Run(interrupted, TextWriter.Null, cancelled.Token);
            Assert.False(stopped.Completed);
            Assert.Equal(1, stopped.GlobalStep);
        }
        string checkpoint = TrainingCheckpoint.PathFor(interrupted.OutputDir, 1);
        Assert.True(File.Exists(Path.Combine(checkpoint, TrainerState.FileName)));
        Assert.Equal(dtype == "bfloat16",
            File.Exists(Path.Combine(checkpoint, TrainingCheckpoint.MasterWeightsFileName)));
        Assert.False(File.Exists(Path.Combine(interrupted.OutputDir, weightsFile)));
        var resumed = TrainingRun.Run(interrupted with { Resume = true }, TextWriter.Null);
        Assert.True(resumed.Completed);

        var planned = TrainerState.Load(Path.Combine(options.OutputDir, TrainerState.FileName));
        Assert.True(planned.Epoch >= 1, "the run should cross an epoch boundary");
        AssertSameWeights(options.OutputDir, interrupted.OutputDir, weightsFile);
        AssertSameLosses(options.OutputDir, interrupted.OutputDir);
    }

    /// <summary>A resume under another loss or clipping would silently train something else: it is refused.</summary>
    [Fact]
    public void ResumeUnderAnotherLossOrClipping_IsRefused()
    {
        using var ws = new TinyTrainingWorkspace();
        var options = ws.Options(TrainingStage.Stage1, ws.Output("run"), "new_text") with { AuxLossCoef = 0.01 };
        using (var cancelled = new CancellationTokenSource())
        {
            cancelled.Cancel();
            Assert.False(TrainingRun.Run(options, TextWriter.Null, cancelled.Token).Completed);
        }

        var otherLoss = Assert.Throws<InvalidDataException>(() =>
            TrainingRun.Run(options with { AuxLossCoef = 5, Resume = true }, TextWriter.Null));
        Assert.Contains("made with loss settings 'aux_loss_coef 0.01', this run has 'aux_loss_coef 5'",
            otherLoss.Message);
        var otherClipping = Assert.Throws<InvalidDataException>(() => TrainingRun.Run(options with
        {
            Optimization = options.Optimization with { MaxGradNorm = 0 }, Resume = true,
        }, TextWriter.Null));
        Assert.Contains("made with max grad norm 1, this run has 0", otherClipping.Message);
        Assert.True(TrainingRun.Run(options with { Resume = true }, TextWriter.Null).Completed);
    }

    [Fact]
    public void KilledTrainProcess_ResumedWithCli_EqualsUninterruptedRun()
    {
        using var ws = new TinyTrainingWorkspace();
        string whole = ws.Output("whole"), killed = ws.Output("killed");
        string[] Args(string output) =>
        [
            "train", "--stage", "1", "--model", ws.ModelDir, "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
            "--output", output, "--num-experts", "3", "--cutoff-len", "32", "--batch-size", "2", "--lr", "0.01",
            "--max-steps", "40", "--save-steps", "2", "--logging-steps", "1", "--seed", "7", "--device", "cpu",
            "--threads", "1",
        ];

        var result = CliRunner.Run(Args(whole));
        Assert.True(result.ExitCode == 0, result.Error);

        using (var child = StartUntilFirstCheckpoint(Args(killed), killed, new ConcurrentQueue<string>()))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(killed, TrainerState.FileName)), "the child completed before the kill");
        Assert.NotNull(TrainingCheckpoint.FindLatest(killed));

        var resumed = CliRunner.Run([.. Args(killed), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("resuming", resumed.Output);
        AssertSameWeights(whole, killed, PeftAdapterFiles.WeightsFileName);
        AssertSameLosses(whole, killed);
    }

    /// <summary>
    /// SIGTERM (what <c>timeout</c>, <c>docker stop</c> and schedulers send) stops <c>train</c> as Ctrl+C does: after
    /// the current step, with a checkpoint of it, the run lock released and exit code 130, not 0, so that a script does
    /// not go on as if the run had finished; <c>--resume</c> then finishes it.
    /// </summary>
    [Fact]
    public void TerminatedTrainProcess_StopsWithACheckpointAndExitCode130()
    {
        using var ws = new TinyTrainingWorkspace();
        string output = ws.Output("terminated");
        string[] args =
        [
            "train", "--stage", "1", "--model", ws.ModelDir, "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
            "--output", output, "--num-experts", "3", "--cutoff-len", "32", "--batch-size", "2", "--lr", "0.01",
            "--max-steps", "60", "--save-steps", "2", "--logging-steps", "1", "--seed", "7", "--device", "cpu",
            "--threads", "1",
        ];
        var printed = new ConcurrentQueue<string>();
        using (var child = StartUntilFirstCheckpoint(args, output, printed))
        {
            using (var kill = Process.Start("kill", ["-TERM", child.Id.ToString()])) kill.WaitForExit();
            Assert.True(child.WaitForExit(60_000), "the child did not stop after SIGTERM");
            child.WaitForExit();   // the output handlers have run
            Assert.True(child.ExitCode == 130, $"exit code {child.ExitCode}: {string.Join('\n', printed)}");
        }

        var stopped = printed.Single(line => line.StartsWith("stopped at step", StringComparison.Ordinal));
        var latest = TrainingCheckpoint.FindLatest(output)!;
        Assert.EndsWith(Path.GetFileName(latest), stopped);
        Assert.False(File.Exists(Path.Combine(output, RunLock.FileName)), "the run lock is released");
        Assert.False(File.Exists(Path.Combine(output, TrainerState.FileName)), "the run is not marked finished");
        var resumed = CliRunner.Run([.. args, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
    }

    /// <summary>
    /// Starts the CLI with <paramref name="args"/> in its own process, its output lines going to
    /// <paramref name="printed"/>, and returns it still running once it has written its first checkpoint.
    /// </summary>
    static Process StartUntilFirstCheckpoint(string[] args, string output, ConcurrentQueue<string> printed)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MoeLpr.Cli.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var child = Process.Start(start)!;
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) printed.Enqueue(e.Data); };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) printed.Enqueue(e.Data); };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (TrainingCheckpoint.FindLatest(output) is null && !child.HasExited && DateTime.UtcNow < deadline)
            Thread.Sleep(5);
        Assert.False(child.HasExited, "the child finished or failed before its first checkpoint was seen");
        return child;
    }

    static void AssertSameWeights(string expectedDir, string actualDir, string weightsFile)
    {
        var expected = SafeTensors.Load(Path.Combine(expectedDir, weightsFile));
        var actual = SafeTensors.Load(Path.Combine(actualDir, weightsFile));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected)
            Assert.True(TinyCheckpoints.BytesOf(tensor).SequenceEqual(TinyCheckpoints.BytesOf(actual[key])),
                $"{key} differs after resume");
    }

    static void AssertSameLosses(string expectedDir, string actualDir)
    {
        var expected = MetricsFile.Read(Path.Combine(expectedDir, MetricsFile.FileName));
        var actual = MetricsFile.Read(Path.Combine(actualDir, MetricsFile.FileName));
        Assert.Equal(expected.Select(m => m.Step), actual.Select(m => m.Step));
        Assert.Equal(expected.Select(m => (m.Loss, m.LearningRate, m.GradNorm)),
            actual.Select(m => (m.Loss, m.LearningRate, m.GradNorm)));
    }
}
