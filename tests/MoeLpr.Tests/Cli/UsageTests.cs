using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Cli;

/// <summary>The usage lines name the tool as the docs do, not after the file it runs from (MoeLpr.Cli.dll).</summary>
public class UsageTests
{
    [Fact]
    public void HelpNamesTheToolMoelpr()
    {
        var help = CliRunner.RunProcess(new Dictionary<string, string>(), "eval", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:\n  moelpr eval [options]", help.Output.ReplaceLineEndings("\n"));
    }
}
