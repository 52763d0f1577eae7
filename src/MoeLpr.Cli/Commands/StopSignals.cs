using System.Runtime.InteropServices;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM (what <c>timeout</c>, <c>docker stop</c> and job schedulers send) into a
/// cancellation: a run stops after its current step and writes a checkpoint, where the default would kill the process
/// and lose every step since the last one saved.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    /// <summary>The exit code of a run stopped before its end (128 + SIGINT, as shells report an interrupt).</summary>
    public const int StoppedExitCode = 130;

    readonly CancellationTokenSource stop = new();
    readonly PosixSignalRegistration[] registrations;

    public StopSignals()
    {
        registrations = [Register(PosixSignal.SIGINT), Register(PosixSignal.SIGTERM)];
    }

    public CancellationToken Token => stop.Token;

    PosixSignalRegistration Register(PosixSignal signal) => PosixSignalRegistration.Create(signal, context =>
    {
        context.Cancel = true;   // keep the process alive until the step is done
        stop.Cancel();
    });

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        stop.Dispose();
    }
}
