using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MoeLpr.Reporting;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Notebooks;

/// <summary>
/// <c>moelpr notebook run</c> hosts the same engine as Jupyter's <c>.net-csharp</c> kernel: the same notebook gives the
/// same outputs in both, a failing cell fails both naming the cell, and a kit that is not built yet is one line in
/// both.
/// </summary>
[Collection("notebook runs")]
public class NotebookRunnersTests
{
    static readonly Dictionary<string, string> Steps7 = new() { ["steps"] = "7" };

    [SkippableFact]
    public void BothRunnersGiveTheSameOutputsCellByCell()
    {
        Skip.If(NotebookRuns.JupyterMissing is not null, NotebookRuns.JupyterMissing);
        var folder = TestNotebooks.TempFolder();
        var jupyter = NotebookRuns.Jupyter(TestNotebooks.Path("outputs.ipynb"),
            Path.Combine(folder, "jupyter"), Steps7);
        var moelpr = NotebookRuns.Moelpr(TestNotebooks.Path("outputs.ipynb"), Path.Combine(folder, "moelpr"), Steps7);

        Assert.True(moelpr.ExitCode == 0, moelpr.Console);
        Assert.Null(jupyter.Failure("outputs.ipynb"));
        Assert.Equal(Shape(jupyter.Executed), Shape(moelpr.Executed));
    }

    [Fact]
    public void ExecutedNotebookHoldsStreamsDisplaysResultsAndCountsInOrder()
    {
        var run = NotebookRuns.Moelpr(TestNotebooks.Path("outputs.ipynb"), TestNotebooks.TempFolder(), Steps7);
        Assert.True(run.ExitCode == 0, run.Console);
        var written = run.Executed;

        Assert.Empty(NotebookValidator.Validate(written));
        Assert.Equal([null, 1, 2, 3, 4, 5],
            written["cells"]!.AsArray().Select(c => c!["execution_count"]?.GetValue<int>()));
        Assert.Contains("MoeLpr: TorchSharp", string.Concat(Outputs(written, "setup").Select(Html)));
        Assert.Equal(("stream", "stdout", "steps = 7\n"), StreamOf(Assert.Single(Outputs(written, "parameters"))));

        var chart = Outputs(written, "chart");
        Assert.Equal(["stream", "display_data", "stream"], chart.Select(OutputType));
        Assert.Equal("before chart\n", StreamOf(chart[0]).Text);
        Assert.Contains("Plotly.newPlot(", Html(chart[1]));
        Assert.Equal("after chart\n", StreamOf(chart[2]).Text);

        var result = Assert.Single(Outputs(written, "result"));
        Assert.Equal(("execute_result", 4), (OutputType(result), result["execution_count"]!.GetValue<int>()));
        Assert.Contains("<pre>14</pre>", Html(result));

        var table = Outputs(written, "table");
        Assert.Equal(["display_data", "display_data", "stream", "execute_result"], table.Select(OutputType));
        Assert.Contains("<div class=\"title\">two tokens</div>", Html(table[0]));
        Assert.Equal(("stream", "stderr", "a warning\n"), StreamOf(table[2]));
        // DataFrame, as Data.Analysis shows it
        Assert.Contains("<td><div class=\"dni-plaintext\"><pre>0.25</pre></div></td>", Html(table[3]));
        // plotly.js is embedded once, by the setup cell; the charts only draw.
        Assert.Single(
            Regex.Matches(File.ReadAllText(run.ExecutedPath), Regex.Escape($"plotly.js v{PlotlyJs.Version}")));
        Assert.DoesNotContain("plotly.js v", Html(chart[1]) + Html(table[1]));
    }

    /// <summary>
    /// Run without parameters (and with --output relative to where the command runs, not to the notebook's folder, into
    /// which the runner moves while the cells run).
    /// </summary>
    [Fact]
    public void ParametersFallBackToTheNotebookDefault()
    {
        var run = NotebookRuns.Moelpr(TestNotebooks.Path("outputs.ipynb"), "executed",
            workingDirectory: TestNotebooks.TempFolder());
        Assert.True(run.ExitCode == 0, run.Console);
        Assert.True(File.Exists(run.ExecutedPath), $"{run.ExecutedPath} was not written:\n{run.Console}");
        Assert.Equal("steps = 200\n", StreamOf(Outputs(run.Executed, "parameters")[0]).Text);
        Assert.Contains("<pre>400</pre>", Html(Outputs(run.Executed, "result")[0]));
    }

    [SkippableFact]
    public void AFailingCellFailsBothRunnersNamingTheCell()
    {
        Skip.If(NotebookRuns.JupyterMissing is not null, NotebookRuns.JupyterMissing);
        var folder = TestNotebooks.TempFolder();
        var notebook = TestNotebooks.Path("failing.ipynb");

        var jupyter = NotebookRuns.Jupyter(notebook, Path.Combine(folder, "jupyter"));
        var moelpr = NotebookRuns.Moelpr(notebook, Path.Combine(folder, "moelpr"));

        var (cell, _, value) = jupyter.FirstError() ?? throw new Xunit.Sdk.XunitException("Jupyter showed no error");
        Assert.Equal(3, cell);
        Assert.Contains("boom 42", value);
        Assert.Equal(1, moelpr.ExitCode);
        Assert.Contains($"error: {notebook}: cell 3 failed: InvalidOperationException: boom 42", moelpr.Console);
        // moelpr stops at the failing cell and writes what ran, the error included.
        var written = moelpr.Executed;
        Assert.Equal(["stream", "error"], Outputs(written, "boom").Select(OutputType));
        Assert.Empty(Outputs(written, "never"));
        Assert.Null(written["cells"]![3]!["execution_count"]);
    }

    [Fact]
    public void ACompileErrorNamesTheCellAndTheLine()
    {
        using var checkout = InsideCheckout();
        var folder = checkout.Path;
        var path = Path.Combine(folder, "typo.ipynb");
        var notebook = JsonNode.Parse(File.ReadAllText(TestNotebooks.Path("failing.ipynb")))!.AsObject();
        notebook["cells"]![0]!["source"] = new JsonArray("var x = 1;\n", "\n", "Consol.WriteLine(x);");
        File.WriteAllText(path, notebook.ToJsonString());

        var run = NotebookRuns.Moelpr(path, Path.Combine(folder, "out"));

        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"cell 1 failed: \w+: \(3,1\): error CS0103: The name 'Consol' does not exist", run.Console);
    }

    [SkippableFact]
    public void BeforeTheKitIsBuiltTheSetupCellSaysSoInOneLine()
    {
        Skip.If(NotebookRuns.JupyterMissing is not null, NotebookRuns.JupyterMissing);
        // A folder inside the checkout whose nuget.config offers only the committed placeholder package.
        using var checkout = InsideCheckout();
        var folder = checkout.Path;
        var packages = Directory.CreateDirectory(Path.Combine(folder, "packages")).FullName;
        File.Copy(Path.Combine(KitRoot, "artifacts", "packages", "MoeLpr.0.0.0-not-built.nupkg"),
            Path.Combine(packages, "MoeLpr.0.0.0-not-built.nupkg"));
        File.WriteAllText(Path.Combine(folder, "nuget.config"),
            "<configuration><packageSources><clear /><add key=\"placeholder\" value=\"packages\" />" +
            "</packageSources></configuration>");
        File.Copy(TestNotebooks.Path("outputs.ipynb"), Path.Combine(folder, "outputs.ipynb"));
        const string Message = "The MoeLpr kit is not built yet: run `dotnet build -c Release` in the repository " +
                               "root, then restart the kernel.";

        var jupyter = NotebookRuns.Jupyter(Path.Combine(folder, "outputs.ipynb"), Path.Combine(folder, "jupyter"));
        var moelpr = NotebookRuns.Moelpr(Path.Combine(folder, "outputs.ipynb"), Path.Combine(folder, "moelpr"));

        Assert.Equal((2, Message), (jupyter.FirstError()?.Cell, jupyter.FirstError()?.Value));
        Assert.Equal(1, moelpr.ExitCode);
        Assert.Contains($"cell 2 failed: Error: {Message}", moelpr.Console);
    }

    [Fact]
    public void AParameterNoNotebookReadsIsWarnedOf()
    {
        var path = Path.Combine(TestNotebooks.TempFolder(), "reads.ipynb");
        var notebook = JsonNode.Parse(File.ReadAllText(TestNotebooks.Path("failing.ipynb")))!.AsObject();
        notebook["cells"]![0]!["source"] = new JsonArray(
            "var steps = NotebookParameters.Get(\"steps\", 3);\n",
            "var rate = NotebookParameters.Get<double>( \"lr\", 1);");
        File.WriteAllText(path, notebook.ToJsonString());

        var cli = CliRunner.Run("notebook", "run", path, "--param", "Steps=5", "--param", "stepz=4", "-p", "lr=0.1");

        Assert.Equal(
            ["warning: --param stepz: no notebook given reads it with NotebookParameters.Get; they read lr, steps"],
            cli.Error.Split('\n').Where(line => line.StartsWith("warning:")));
    }

    [Fact]
    public void AMalformedParameterOrNotebookIsOneClearError()
    {
        var folder = TestNotebooks.TempFolder();
        var cli = CliRunner.Run("notebook", "run", TestNotebooks.Path("outputs.ipynb"), "--param", "steps");
        Assert.Equal((1, "error: parameter 'steps' is not of the form key=value"), (cli.ExitCode, cli.Error.Trim()));

        var broken = Path.Combine(folder, "broken.ipynb");
        File.WriteAllText(broken, "{ not json");
        cli = CliRunner.Run("notebook", "run", broken);
        Assert.Equal(1, cli.ExitCode);
        Assert.StartsWith($"error: {broken}: not a Jupyter notebook", cli.Error);

        var notANotebook = Path.Combine(folder, "config.ipynb");
        File.WriteAllText(notANotebook, "{\"model_type\": \"llama\"}");
        cli = CliRunner.Run("notebook", "run", notANotebook);
        Assert.Equal((1, $"error: {notANotebook}: not a Jupyter notebook (no \"cells\" list)"),
            (cli.ExitCode, cli.Error.Trim()));

        cli = CliRunner.Run("notebook", "run", TestNotebooks.Path("outputs.ipynb"), "--output",
            Path.GetDirectoryName(TestNotebooks.Path("outputs.ipynb"))!);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("would overwrite the notebook itself", cli.Error);

        cli = CliRunner.Run("notebook", "run", Path.Combine(folder, "missing.ipynb"));
        Assert.Equal((1, $"error: {Path.Combine(folder, "missing.ipynb")}: notebook not found"),
            (cli.ExitCode, cli.Error.Trim()));
    }

    static string KitRoot => MoeLpr.Notebooks.KitDirectory.Root;

    // The kernel is the checkout's local tool and the kit's package source is the checkout's nuget.config: notebooks
    // the tests make must sit inside the checkout, as users' do (here under the test output folder).
    static TempDirectory InsideCheckout() => new(AppContext.BaseDirectory);

    // Per code cell, its outputs as (type, stream name, mime types), leaving out the script Jupyter's front end adds
    // to the first cell it runs (dotnet-interactive's probe for its HTTP API).
    static List<string> Shape(JsonObject notebook) =>
        notebook["cells"]!.AsArray().Where(c => c!["cell_type"]!.GetValue<string>() == "code")
            .Select(c => string.Join(" | ", c!["outputs"]!.AsArray()
                .Where(o => !Html(o!.AsObject()).Contains("probeAddresses"))
                .Select(o => $"{OutputType(o!.AsObject())} {o!["name"]?.GetValue<string>()} {string.Join(",", (o["data"] as JsonObject)?.Select(kv => kv.Key).Order() ?? Enumerable.Empty<string>())}".Trim())))
            .ToList();

    static JsonObject[] Outputs(JsonObject notebook, string cellId) =>
        notebook["cells"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == cellId)!["outputs"]!.AsArray()
            .Select(o => o!.AsObject()).ToArray();

    static string OutputType(JsonObject output) => output["output_type"]!.GetValue<string>();

    static (string Type, string Name, string Text) StreamOf(JsonObject output) =>
        (OutputType(output), output["name"]!.GetValue<string>(), Text(output["text"]));

    static string Html(JsonObject output) => output["data"]?["text/html"] is { } html ? Text(html) : "";

    static string Text(JsonNode? node) =>
        node is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>()))
            : node?.GetValue<string>() ?? "";
}
