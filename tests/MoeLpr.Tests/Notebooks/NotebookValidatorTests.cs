using System.Text.Json.Nodes;

namespace MoeLpr.Tests.Notebooks;

public class NotebookValidatorTests
{
    static JsonObject Valid() => JsonNode.Parse(File.ReadAllText(TestNotebooks.Path("failing.ipynb")))!.AsObject();

    [Fact]
    public void TestNotebooksAreValid()
    {
        foreach (var name in new[] { "outputs.ipynb", "failing.ipynb" })
        {
            NotebookValidator.ValidateFile(TestNotebooks.Path(name));
            Assert.Empty(NotebookValidator.Validate(JsonNode.Parse(File.ReadAllText(TestNotebooks.Path(name)))));
        }
    }

    [Fact]
    public void DuplicateAndMissingCellIdsAreReportedPerCell()
    {
        var notebook = Valid();
        notebook["cells"]![2]!["id"] = "ok";
        notebook["cells"]![3]!.AsObject().Remove("id");

        var problems = NotebookValidator.Validate(notebook);

        Assert.Contains("cell 3: id \"ok\" is used by an earlier cell", problems);
        Assert.Contains("cell 4: nbformat 4.5 requires a cell id", problems);
    }

    [Fact]
    public void OlderMinorVersionsNeedNoIds()
    {
        var notebook = Valid();
        notebook["nbformat_minor"] = 4;
        foreach (var cell in notebook["cells"]!.AsArray()) cell!.AsObject().Remove("id");
        Assert.Empty(NotebookValidator.Validate(notebook));
    }

    [Fact]
    public void FormatKernelspecAndCellShapeAreChecked()
    {
        var notebook = Valid();
        notebook["nbformat"] = 3;
        notebook["metadata"]!["kernelspec"]!["name"] = "python3";
        notebook["cells"]![0]!.AsObject().Remove("outputs");
        notebook["cells"]![1]!["cell_type"] = "heading";
        notebook["cells"]![2]!["source"] = 5;

        var problems = NotebookValidator.Validate(notebook);

        Assert.Contains("nbformat must be 4 (found 3)", problems);
        Assert.Contains("metadata.kernelspec.name must be \".net-csharp\" (found \"python3\")", problems);
        Assert.Contains("cell 1: a code cell needs an outputs array", problems);
        Assert.Contains(problems, p => p.StartsWith("cell 2: cell_type must be", StringComparison.Ordinal));
        Assert.Contains("cell 3: source must be a string or an array of strings", problems);
    }

    [Fact]
    public void UnreadableFileNamesThePath()
    {
        var path = Path.Combine(TestNotebooks.TempFolder(), "broken.ipynb");
        File.WriteAllText(path, "{ not json");
        var error = Assert.Throws<InvalidDataException>(() => NotebookValidator.ValidateFile(path));
        Assert.StartsWith(path, error.Message);
    }
}
