using System.Text.Json.Nodes;
using MoeLpr.Notebooks;

namespace MoeLpr.Tests.Notebooks;

/// <summary>
/// Every notebook in <c>notebooks/</c> runs cell by cell with the kit's runner at reduced size without a failing cell,
/// has the Polyglot .ipynb shape, and has an up-to-date executed copy in <c>notebooks/executed/</c>.
/// The executed test notebooks are written under the fixture's temp folder (<c>executed/</c>).
/// </summary>
public class NotebookExecutionTests(KitNotebooks notebooks) : IClassFixture<KitNotebooks>
{
    [Fact]
    public void TheTeachingNotebooksAreAllThere()
    {
        Assert.Equal(KitNotebooks.Expected, KitNotebooks.Names().Select(n => (string)n[0]));
    }

    [Theory]
    [MemberData(nameof(KitNotebooks.Names), MemberType = typeof(KitNotebooks))]
    public async Task RunsEveryCellAtReducedSize(string name)
    {
        var output = notebooks.ExecutedPath(name);
        NotebookRunResult result;
        try
        {
            result = await NotebookRunner.RunAsync(Path.Combine(KitNotebooks.Folder, name),
                                                   new NotebookRunOptions(output, notebooks.ParametersFor(name)));
        }
        catch (NotebookExecutionException e)
        {
            Assert.Fail($"{name}: {e.Message}"); // names the notebook and the failing cell
            throw;
        }

        var source = JsonNode.Parse(File.ReadAllText(Path.Combine(KitNotebooks.Folder, name)))!;
        var codeCells = Cells(source).Count(c => Type(c) == "code");
        Assert.Equal(codeCells, result.ExecutedCells);
        Assert.Empty(result.SkippedCells);
        var executed = JsonNode.Parse(File.ReadAllText(output))!;
        Assert.Empty(NotebookValidator.Validate(executed));
        foreach (var cell in Cells(executed).Where(c => Type(c) == "code"))
        {
            Assert.NotNull(cell["execution_count"]);
            Assert.DoesNotContain(cell["outputs"]!.AsArray(), o => o!["output_type"]!.GetValue<string>() == "error");
        }
        // Every notebook shows something beyond markdown: at least one cell produced output.
        Assert.Contains(Cells(executed), c => Type(c) == "code" && c["outputs"]!.AsArray().Count > 0);
    }

    [Theory]
    [MemberData(nameof(KitNotebooks.Names), MemberType = typeof(KitNotebooks))]
    public void HasThePolyglotNotebookShape(string name)
    {
        var notebook = JsonNode.Parse(File.ReadAllText(Path.Combine(KitNotebooks.Folder, name)))!;

        Assert.Empty(NotebookValidator.Validate(notebook));
        Assert.Equal(4, notebook["nbformat"]!.GetValue<int>());
        Assert.Equal(5, notebook["nbformat_minor"]!.GetValue<int>());
        var kernelspec = notebook["metadata"]!["kernelspec"]!;
        Assert.Equal((".NET (C#)", "C#", ".net-csharp"),
            (kernelspec["display_name"]!.GetValue<string>(), kernelspec["language"]!.GetValue<string>(), kernelspec["name"]!.GetValue<string>()));
        Assert.Equal("csharp", notebook["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());

        var cells = Cells(notebook).ToList();
        Assert.Equal(cells.Count, cells.Select(c => c["id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal("markdown", Type(cells[0]));
        Assert.StartsWith("# ", Source(cells[0]));
        foreach (var code in cells.Where(c => Type(c) == "code"))
        {
            Assert.Equal("csharp", code["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
            Assert.Null(code["execution_count"]);
            Assert.Empty(code["outputs"]!.AsArray());
        }
        Assert.Contains(cells, c => Type(c) == "code" && Source(c).Contains("Parameters.Get(", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(KitNotebooks.Names), MemberType = typeof(KitNotebooks))]
    public void HasAnExecutedCopyOfItsCurrentCells(string name)
    {
        var notebook = JsonNode.Parse(File.ReadAllText(Path.Combine(KitNotebooks.Folder, name)))!;
        var executedPath = Path.Combine(KitNotebooks.Folder, "executed", name);
        Assert.True(File.Exists(executedPath), $"{executedPath} is missing: run 'moelpr notebook run notebooks/*.ipynb --output notebooks/executed'");
        var executed = JsonNode.Parse(File.ReadAllText(executedPath))!;

        Assert.Equal(Cells(notebook).Select(Source), Cells(executed).Select(Source));
        var code = Cells(executed).Where(c => Type(c) == "code").ToList();
        Assert.All(code, c => Assert.NotNull(c["execution_count"]));
        Assert.All(code, c => Assert.DoesNotContain(c["outputs"]!.AsArray(), o => o!["output_type"]!.GetValue<string>() == "error"));
        // Charts render offline: when a notebook draws charts, plotly.js is inlined exactly once.
        var html = string.Concat(code.SelectMany(c => c["outputs"]!.AsArray())
                                     .Select(o => o!["data"]?["text/html"] is JsonNode h ? Join(h) : ""));
        if (html.Contains("Plotly.newPlot", StringComparison.Ordinal))
            Assert.Equal(1, Occurrences(html, "plotly.js v"));
        Assert.DoesNotContain("src=\"https://cdn.plot.ly", html, StringComparison.Ordinal); // no external plotly.js
    }

    static IEnumerable<JsonNode> Cells(JsonNode notebook) => notebook["cells"]!.AsArray().Select(c => c!);

    static string Type(JsonNode cell) => cell["cell_type"]!.GetValue<string>();

    static string Source(JsonNode cell) => Join(cell["source"]!);

    static string Join(JsonNode text) => text is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : text.GetValue<string>();

    static int Occurrences(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
