using System.CommandLine;
using MoeLpr.Cli.Commands;

namespace MoeLpr.Tests.TestSupport;

/// <summary>Runs <c>moelpr</c> in-process with the real command catalog and captures its output.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args)
    {
        var root = new RootCommand("moelpr (test)");
        foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return new Result(code, output.ToString(), error.ToString());
    }
}
