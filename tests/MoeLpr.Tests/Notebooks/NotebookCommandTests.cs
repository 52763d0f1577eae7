using System.CommandLine;
using System.Text.Json.Nodes;
using MoeLpr.Cli.Commands;

namespace MoeLpr.Tests.Notebooks;

// Notebook runs share the process console with each other; one collection keeps them from running in parallel.
[Collection("notebook runs")]
public class NotebookCommandTests
{
    static Task<int> Run(params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
        return root.Parse(args).InvokeAsync();
    }

    [Fact]
    public async Task RunWritesExecutedNotebooksWithParameters()
    {
        var folder = TestNotebooks.TempFolder();

        var exit = await Run("notebook", "run", TestNotebooks.Path("outputs.ipynb"), "--output", folder, "--param", "steps=3");

        Assert.Equal(0, exit);
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "outputs.ipynb")))!;
        var setup = written["cells"]![1]!["outputs"]![0]!;
        Assert.Equal("steps = 3\n", setup["text"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task FailingNotebookExitsWithOneAndStillWritesOutputs()
    {
        var folder = TestNotebooks.TempFolder();

        var exit = await Run("notebook", "run", TestNotebooks.Path("failing.ipynb"), "-o", folder);

        Assert.Equal(1, exit);
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "failing.ipynb")))!;
        Assert.Equal("error", written["cells"]![2]!["outputs"]![1]!["output_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task MalformedParameterIsAnError()
    {
        Assert.Equal(1, await Run("notebook", "run", TestNotebooks.Path("outputs.ipynb"), "--param", "steps"));
    }
}
