using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MoeLpr.Reporting;
using MoeLpr.Tests.Reporting;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Notebooks;

/// <summary>
/// Every notebook in <c>notebooks/</c> runs top to bottom, unchanged, at reduced size in Jupyter's <c>.net-csharp</c>
/// kernel and with <c>moelpr notebook run</c>; its charts draw offline once exported the way Jupyter exports them; it
/// has the .ipynb shape editors open; and its executed copy in <c>notebooks/executed/</c> came from the real kernel.
/// </summary>
[Collection("notebook runs")]
public class NotebookExecutionTests(KitNotebooks notebooks) : IClassFixture<KitNotebooks>
{
    const string SetupCell = "#r \"nuget: MoeLpr, *-*\"";

    [Fact]
    public void TheTeachingNotebooksAreAllThere()
    {
        Assert.Equal(KitNotebooks.Expected, KitNotebooks.Names().Select(n => (string)n[0]));
    }

    [SkippableTheory]
    [MemberData(nameof(KitNotebooks.Names), MemberType = typeof(KitNotebooks))]
    public void RunsTopToBottomInJupytersKernel(string name)
    {
        Skip.If(NotebookRuns.JupyterMissing is not null, NotebookRuns.JupyterMissing);
        AssertRanCleanly(name, notebooks.InJupyter(name));
    }

    [Theory]
    [MemberData(nameof(KitNotebooks.Names), MemberType = typeof(KitNotebooks))]
    public void RunsTopToBottomWithMoelprNotebookRun(string name)
    {
        var run = notebooks.WithMoelpr(name);
        Assert.True(run.ExitCode == 0, $"moelpr notebook run {name} exited {run.ExitCode}:\n{run.Console}");
        AssertRanCleanly(name, run);
    }

    [SkippableFact]
    public void ChartsOfAnExecutedNotebookDrawOfflineInABrowser()
    {
        Skip.If(NotebookRuns.JupyterMissing is not null, NotebookRuns.JupyterMissing);
        Skip.If(HeadlessBrowser.FindChromium() is null, "Chromium is not installed (apt-get install chromium)");
        const string name = "04-routing-by-language.ipynb";
        var run = notebooks.InJupyter(name);
        Assert.Null(run.Failure(name));
        var folder = Directory.CreateTempSubdirectory("moelpr-notebook-html-").FullName;

        var html = NotebookRuns.ExportHtml(run.ExecutedPath, folder);
        // a chart's call, not plotly.js's own text
        var charts = Regex.Matches(File.ReadAllText(html), "Plotly.newPlot\\('").Count;
        var dom = HeadlessBrowser.RenderedDom(html, offline: true);
        var render = HeadlessBrowser.Screenshot(html, Path.Combine(folder, "notebook.png"), width: 1400,
            height: 6000, offline: true);

        Assert.True(charts >= 5, $"the executed notebook has {charts} charts");
        // plotly.js (embedded once, by the cell that loads the kit) drew every chart.
        Assert.Equal(charts, Regex.Matches(dom, @"class=""[^""]*\bjs-plotly-plot\b").Count);
        Assert.Empty(render.ScriptErrors);
        var page = ScreenshotStats.Of(render.ScreenshotPath, 0, 0, 1400, 6000).Region;
        Assert.True(page.DistinctColors > 100, $"the page has only {page.DistinctColors} colours");
    }

    [Theory]
    [MemberData(nameof(KitNotebooks.Names), MemberType = typeof(KitNotebooks))]
    public void HasTheNotebookShapeEditorsOpen(string name)
    {
        var notebook = JsonNode.Parse(File.ReadAllText(Path.Combine(KitNotebooks.Folder, name)))!;

        Assert.Empty(NotebookValidator.Validate(notebook));
        Assert.Equal((4, 5), (notebook["nbformat"]!.GetValue<int>(), notebook["nbformat_minor"]!.GetValue<int>()));
        var kernelspec = notebook["metadata"]!["kernelspec"]!;
        Assert.Equal((".NET (C#)", "C#", ".net-csharp"),
            (kernelspec["display_name"]!.GetValue<string>(), kernelspec["language"]!.GetValue<string>(),
                kernelspec["name"]!.GetValue<string>()));
        Assert.Equal("csharp",
            notebook["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());

        var cells = Cells(notebook).ToList();
        Assert.Equal("markdown", Type(cells[0]));
        Assert.StartsWith("# ", Source(cells[0]));
        var code = cells.Where(c => Type(c) == "code").ToList();
        // The first code cell is the whole setup; parameters come through NotebookParameters, not a runner's global.
        Assert.EndsWith(SetupCell, Source(code[0]));
        Assert.Contains(code, c => Source(c).Contains("NotebookParameters.Get(", StringComparison.Ordinal));
        Assert.DoesNotContain(code, c => Regex.IsMatch(Source(c), @"(?<!Notebook)Parameters\.Get\("));
        foreach (var cell in code)
        {
            Assert.Equal("csharp", cell["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
            Assert.Null(cell["execution_count"]);
            Assert.Empty(cell["outputs"]!.AsArray());
        }
    }

    [Theory]
    [MemberData(nameof(KitNotebooks.Names), MemberType = typeof(KitNotebooks))]
    public void HasAnExecutedCopyFromTheRealKernel(string name)
    {
        var notebook = JsonNode.Parse(File.ReadAllText(Path.Combine(KitNotebooks.Folder, name)))!;
        var executedPath = Path.Combine(KitNotebooks.Folder, "executed", name);
        Assert.True(File.Exists(executedPath),
            $"{executedPath} is missing: run 'moelpr notebook run notebooks/*.ipynb --output notebooks/executed'");
        var executed = JsonNode.Parse(File.ReadAllText(executedPath))!;

        Assert.Equal(Cells(notebook).Select(Source), Cells(executed).Select(Source));
        AssertExecutedByTheKernel(executedPath, executed.AsObject());
    }

    static void AssertRanCleanly(string name, NotebookRuns.Result run)
    {
        Assert.True(run.FirstError() is null, run.Failure(name) + "\n" + run.Console);
        AssertExecutedByTheKernel(run.ExecutedPath, run.Executed);
    }

    // Every code cell ran, the setup cell loaded the kit through the kernel's package extension, and charts carry
    // plotly.js exactly once and reference nothing external.
    static void AssertExecutedByTheKernel(string path, JsonObject executed)
    {
        var code = Cells(executed).Where(c => Type(c) == "code").ToList();
        Assert.All(code, c => Assert.NotNull(c["execution_count"]));
        Assert.All(code,
            c => Assert.DoesNotContain(c["outputs"]!.AsArray(), o => o!["output_type"]!.GetValue<string>() == "error"));
        var setup = string.Concat(code[0]["outputs"]!.AsArray().Select(OutputText));
        Assert.Contains("MoeLpr: TorchSharp", setup);
        var text = File.ReadAllText(path);
        if (text.Contains("Plotly.newPlot", StringComparison.Ordinal))
            Assert.Single(Regex.Matches(text, Regex.Escape($"plotly.js v{PlotlyJs.Version}")));
        Assert.DoesNotMatch(new Regex("<script[^>]*\\bsrc\\s*=", RegexOptions.IgnoreCase), text);
    }

    static string OutputText(JsonNode? output) =>
        output!["data"] is JsonObject data ? string.Concat(data.Select(kv => Join(kv.Value!)))
            : output["text"] is { } text ? Join(text) : "";

    static IEnumerable<JsonNode> Cells(JsonNode notebook) => notebook["cells"]!.AsArray().Select(c => c!);

    static string Type(JsonNode cell) => cell["cell_type"]!.GetValue<string>();

    static string Source(JsonNode cell) => Join(cell["source"]!);

    static string Join(JsonNode text) =>
        text is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : text.GetValue<string>();
}
