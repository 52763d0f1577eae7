using System.Text;

namespace MoeLpr.Notebooks;

/// <summary>
/// Sends <c>Console.Out</c>/<c>Console.Error</c> to the running cell's buffers. The console is process-wide, so
/// instead of swapping it per cell (which would steal output of anything running in parallel, e.g. other tests),
/// a router is installed once and each cell sets its target in an <see cref="AsyncLocal{T}"/> that flows into
/// the cell's code and the tasks it starts; everything else still reaches the original console.
/// </summary>
internal static class ConsoleCapture
{
    static readonly AsyncLocal<CellOutputs?> Target = new();
    static readonly object InstallGate = new();
    static TextWriter? _installedOut, _installedError;

    /// <summary>Routes console output of the current async flow to <paramref name="cell"/> until disposed.</summary>
    internal static IDisposable Begin(CellOutputs cell)
    {
        Install();
        var previous = Target.Value;
        Target.Value = cell;
        return new Restore(previous);
    }

    // (Re)installs the routers unless they are still the console's writers: code that swapped the console
    // since (a test capturing output, say) gets its writer wrapped rather than bypassed.
    static void Install()
    {
        lock (InstallGate)
        {
            if (!ReferenceEquals(Console.Out, _installedOut))
            {
                Console.SetOut(new RoutingWriter(Console.Out, cell => cell.StandardOutput));
                _installedOut = Console.Out;
            }
            if (!ReferenceEquals(Console.Error, _installedError))
            {
                Console.SetError(new RoutingWriter(Console.Error, cell => cell.StandardError));
                _installedError = Console.Error;
            }
        }
    }

    sealed class Restore(CellOutputs? previous) : IDisposable
    {
        public void Dispose() => Target.Value = previous;
    }

    sealed class RoutingWriter(TextWriter original, Func<CellOutputs, TextWriter> select) : TextWriter
    {
        TextWriter Current => Target.Value is { } cell ? select(cell) : original;

        public override Encoding Encoding => original.Encoding;
        public override void Write(char value) { var w = Current; lock (w) w.Write(value); }
        public override void Write(string? value) { var w = Current; lock (w) w.Write(value); }
        public override void Write(char[] buffer, int index, int count) { var w = Current; lock (w) w.Write(buffer, index, count); }
        public override void Write(ReadOnlySpan<char> buffer) { var w = Current; lock (w) w.Write(buffer); }
        public override void WriteLine(string? value) { var w = Current; lock (w) w.WriteLine(value); }
        public override void Flush() => original.Flush();
    }
}
