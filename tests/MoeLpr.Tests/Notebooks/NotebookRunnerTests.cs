using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MoeLpr.Notebooks;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Notebooks;

// Notebook runs share the process console with each other; one collection keeps them from running in parallel.
[Collection("notebook runs")]
public class NotebookRunnerTests
{
    static string Text(JsonNode? node) => string.Concat(node!.AsArray().Select(l => l!.GetValue<string>()));

    static JsonObject[] Outputs(JsonObject notebook, string cellId) =>
        notebook["cells"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == cellId)!["outputs"]!.AsArray().Select(o => o!.AsObject()).ToArray();

    [Fact]
    public async Task ExecutedNotebookHoldsStreamsDisplaysResultsAndCounts()
    {
        var output = Path.Combine(TestNotebooks.TempFolder(), "outputs.ipynb");
        var result = await NotebookRunner.RunAsync(TestNotebooks.Path("outputs.ipynb"),
            new NotebookRunOptions(output, NotebookParameters.Parse(["steps=7"])));

        Assert.Equal(4, result.ExecutedCells);
        Assert.Equal(["cell 5 (fsharp)"], result.SkippedCells);
        Assert.Contains("#r \"nuget: Plotly.NET.CSharp, 0.14.0\"", result.SkippedDirectives);
        Assert.Contains(result.SkippedDirectives, d => d.Contains("MoeLpr.dll"));
        Assert.Contains("#!csharp", result.SkippedDirectives);

        var written = JsonNode.Parse(File.ReadAllText(output))!.AsObject();
        Assert.Empty(NotebookValidator.Validate(written));
        Assert.Equal([null, 1, 2, 3, null, 4], written["cells"]!.AsArray().Select(c => c!["execution_count"]?.GetValue<int>()));

        // Parameters reached the notebook: console output is captured as a stream output.
        var setup = Assert.Single(Outputs(written, "setup"));
        Assert.Equal(("stream", "stdout", "steps = 7\n"), (setup["output_type"]!.GetValue<string>(), setup["name"]!.GetValue<string>(), Text(setup["text"])));

        // Console text before and after a display keeps its order around the chart.
        var chart = Outputs(written, "chart");
        Assert.Equal(["stream", "display_data", "stream"], chart.Select(o => o["output_type"]!.GetValue<string>()));
        Assert.Equal("before chart\n", Text(chart[0]["text"]));
        var chartHtml = Text(chart[1]["data"]!["text/html"]);
        Assert.Contains("Plotly.newPlot(", chartHtml);
        Assert.Contains($"plotly.js v{PlotlyJs.Version}", chartHtml);

        var trailing = Assert.Single(Outputs(written, "result"));
        Assert.Equal("execute_result", trailing["output_type"]!.GetValue<string>());
        Assert.Equal(3, trailing["execution_count"]!.GetValue<int>());
        Assert.Equal("14", Text(trailing["data"]!["text/plain"]));

        Assert.Empty(Outputs(written, "fsharp"));

        var table = Outputs(written, "table");
        Assert.Equal(["display_data", "display_data", "stream", "execute_result"], table.Select(o => o["output_type"]!.GetValue<string>()));
        Assert.Equal("<b>bold</b>", Text(table[0]["data"]!["text/html"]));
        Assert.Equal(("stderr", "a warning\n"), (table[2]["name"]!.GetValue<string>(), Text(table[2]["text"])));
        Assert.Contains("<td class=\"num\">0.25</td>", Text(table[3]["data"]!["text/html"]));

        // plotly.js is embedded once, in the first chart; the second chart only draws.
        var secondChart = Text(table[1]["data"]!["text/html"]);
        Assert.Contains("Plotly.newPlot(", secondChart);
        Assert.DoesNotContain("plotly.js v", secondChart);
        Assert.Single(Regex.Matches(File.ReadAllText(output), Regex.Escape($"plotly.js v{PlotlyJs.Version}")));
        Assert.DoesNotMatch(new Regex("<script[^>]*\\bsrc\\s*=", RegexOptions.IgnoreCase), File.ReadAllText(output));
    }

    [Fact]
    public async Task ParametersFallBackToTheNotebookDefault()
    {
        var result = await NotebookRunner.RunAsync(TestNotebooks.Path("outputs.ipynb"));
        Assert.Null(result.OutputPath);
        Assert.Equal("steps = 200\n", Text(Outputs(result.Notebook, "setup")[0]["text"]));
        Assert.Equal("400", Text(Outputs(result.Notebook, "result")[0]["data"]!["text/plain"]));
    }

    [Fact]
    public async Task FailingCellStopsTheRunNamingNotebookCellAndError()
    {
        var output = Path.Combine(TestNotebooks.TempFolder(), "failing.ipynb");
        var notebook = TestNotebooks.Path("failing.ipynb");

        var error = await Assert.ThrowsAsync<NotebookExecutionException>(() => NotebookRunner.RunAsync(notebook, new NotebookRunOptions(output)));

        Assert.Equal(3, error.CellNumber);
        Assert.StartsWith($"{notebook}: cell 3 failed: InvalidOperationException: boom 42", error.Message);
        var written = JsonNode.Parse(File.ReadAllText(output))!.AsObject();
        var outputs = Outputs(written, "boom");
        Assert.Equal(["stream", "error"], outputs.Select(o => o["output_type"]!.GetValue<string>()));
        Assert.Equal("about to fail\n", Text(outputs[0]["text"]));
        Assert.Equal(("InvalidOperationException", "boom 42"), (outputs[1]["ename"]!.GetValue<string>(), outputs[1]["evalue"]!.GetValue<string>()));
        Assert.Contains(outputs[1]["traceback"]!.AsArray(), line => line!.GetValue<string>().Contains("boom 42"));
        // The cell after the failure never ran.
        Assert.Empty(Outputs(written, "never"));
        Assert.Null(written["cells"]![3]!["execution_count"]);
    }

    [Fact]
    public async Task CompileErrorsReportTheCellLine()
    {
        var folder = TestNotebooks.TempFolder();
        var path = Path.Combine(folder, "typo.ipynb");
        var notebook = JsonNode.Parse(File.ReadAllText(TestNotebooks.Path("failing.ipynb")))!.AsObject();
        notebook["cells"]![0]!["source"] = new JsonArray("var x = 1;\n", "\n", "Consol.WriteLine(x);");
        File.WriteAllText(path, notebook.ToJsonString());

        var error = await Assert.ThrowsAsync<NotebookExecutionException>(() => NotebookRunner.RunAsync(path));

        Assert.Equal(1, error.CellNumber);
        Assert.Equal("CompilationError", error.ErrorName);
        Assert.Contains("(3,1): error CS0103", error.ErrorValue);
        Assert.Contains("Consol", error.ErrorValue);
    }

    [Fact]
    public async Task MissingReferencedDllIsACellError()
    {
        var folder = TestNotebooks.TempFolder();
        var path = Path.Combine(folder, "missing-dll.ipynb");
        var notebook = JsonNode.Parse(File.ReadAllText(TestNotebooks.Path("failing.ipynb")))!.AsObject();
        notebook["cells"]![0]!["source"] = new JsonArray("#r \"lib/NotThere.dll\"\n", "var x = 1;");
        File.WriteAllText(path, notebook.ToJsonString());

        var error = await Assert.ThrowsAsync<NotebookExecutionException>(() => NotebookRunner.RunAsync(path));
        Assert.Equal(1, error.CellNumber);
        Assert.Contains(Path.Combine(folder, "lib", "NotThere.dll"), error.Message);
    }

    [Fact]
    public async Task ReferencedDllRelativeToTheNotebookIsUsable()
    {
        // xunit.assert is not a MoeLpr dependency, so the cell can only compile if the #r directive added it.
        var folder = TestNotebooks.TempFolder();
        Directory.CreateDirectory(Path.Combine(folder, "lib"));
        File.Copy(typeof(Assert).Assembly.Location, Path.Combine(folder, "lib", "xunit.assert.dll"));
        var path = Path.Combine(folder, "with-dll.ipynb");
        var notebook = JsonNode.Parse(File.ReadAllText(TestNotebooks.Path("failing.ipynb")))!.AsObject();
        notebook["cells"]![0]!["source"] = new JsonArray("#r \"lib/xunit.assert.dll\"\n", "typeof(Xunit.Assert).Name");
        notebook["cells"]!.AsArray().RemoveAt(2);
        File.WriteAllText(path, notebook.ToJsonString());

        var result = await NotebookRunner.RunAsync(path);

        Assert.Equal("Assert", Text(Outputs(result.Notebook, "ok")[0]["data"]!["text/plain"]));
        Assert.Empty(result.SkippedDirectives);
    }

    [Fact]
    public async Task ConsoleIsStillCapturedAfterSomeoneElseRedirectedIt()
    {
        var original = Console.Out;
        var elsewhere = new StringWriter();
        Console.SetOut(elsewhere);
        try
        {
            var result = await NotebookRunner.RunAsync(TestNotebooks.Path("outputs.ipynb"));
            Assert.Equal("steps = 200\n", Text(Outputs(result.Notebook, "setup")[0]["text"]));
            Assert.DoesNotContain("steps = 200", elsewhere.ToString());
        }
        finally { Console.SetOut(original); }
    }

    [Fact]
    public async Task InvalidNotebookIsRejectedBeforeRunning()
    {
        var path = Path.Combine(TestNotebooks.TempFolder(), "python.ipynb");
        File.WriteAllText(path, """{"cells": [], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}""");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => NotebookRunner.RunAsync(path));
        Assert.StartsWith(path, error.Message);
        Assert.Contains(".net-csharp", error.Message);
    }
}
