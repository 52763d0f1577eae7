using System.CommandLine;
using System.Diagnostics;
using MoeLpr.Cli.Commands;

namespace MoeLpr.Tests.TestSupport;

/// <summary>
/// Runs <c>moelpr</c> and captures its output: in-process with the real command catalog, or as its own process
/// (<c>dotnet MoeLpr.Cli.dll</c>) where the process start matters, such as which libtorch it loads.
/// </summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CommandCatalog.Root().Parse(args)
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        return new Result(code, output.ToString(), error.ToString());
    }

    public static Result RunProcess(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunProgram("dotnet", [Path.Combine(AppContext.BaseDirectory, "MoeLpr.Cli.dll"), .. args], environment,
            TimeSpan.FromMinutes(2));

    /// <summary>Runs <paramref name="program"/> to its end (killed after <paramref name="timeout"/>).</summary>
    public static Result RunProgram(string program, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not finish in {timeout}");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }
}
