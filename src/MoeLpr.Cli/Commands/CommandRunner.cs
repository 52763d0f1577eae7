using System.CommandLine;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// Runs a command's body and turns bad input into one line <c>error: message</c> on stderr and exit code 1.
/// </summary>
internal static class CommandRunner
{
    public static int Run(ParseResult parseResult, Action body) => Run(parseResult, () =>
    {
        body();
        return 0;
    });

    /// <summary>Runs a body that chooses its own exit code.</summary>
    public static int Run(ParseResult parseResult, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or ArgumentException
            or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            parseResult.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
