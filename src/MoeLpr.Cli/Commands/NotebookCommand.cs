using System.CommandLine;
using MoeLpr.Notebooks;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr notebook run PATH... [--output DIR] [--param key=value]...</c>: runs notebooks headless.</summary>
public static class NotebookCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Notebooks (.ipynb) to run, in order", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output", "-o") { Description = "Folder for the executed notebooks (with outputs); none are written without it" };
        var parameters = new Option<string[]>("--param", "-p")
        {
            Description = "Notebook parameter key=value, read in the notebook with Parameters.Get(key, default); repeatable",
            DefaultValueFactory = _ => [],
        };
        var run = new Command("run", "Run the C# cells of Polyglot notebooks in order and report the first failing cell");
        run.Arguments.Add(paths);
        run.Options.Add(output);
        run.Options.Add(parameters);
        run.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var values = NotebookParameters.Parse(parseResult.GetValue(parameters) ?? []);
                var outputFolder = parseResult.GetValue(output);
                foreach (var path in parseResult.GetValue(paths)!)
                {
                    var outputPath = outputFolder is null ? null : Path.Combine(outputFolder, Path.GetFileName(path));
                    var result = await NotebookRunner.RunAsync(path, new NotebookRunOptions(outputPath, values), cancellationToken);
                    Console.WriteLine($"ok: {path} ({result.ExecutedCells} cells run{(outputPath is null ? "" : $", written to {outputPath}")})");
                }
                return 0;
            }
            catch (Exception e) when (e is NotebookExecutionException or InvalidDataException or ArgumentException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });

        var notebook = new Command("notebook", "Polyglot notebooks (.ipynb) of the kit");
        notebook.Subcommands.Add(run);
        return notebook;
    }
}
