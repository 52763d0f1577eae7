using System.CommandLine;
using MoeLpr.NotebookHost;
using MoeLpr.Notebooks;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr notebook run PATH... [--output DIR] [--param key=value]...</c>: runs notebooks in the .NET Interactive
/// engine.
/// </summary>
public static class NotebookCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Notebooks (.ipynb) to run, in order", Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Folder for the executed notebooks (with outputs); none are written without it",
        };
        var parameters = new Option<string[]>("--param", "-p")
        {
            Description = "Notebook parameter key=value, read in the notebook with " +
                          "NotebookParameters.Get(key, default) " +
                          $"(the same as setting {NotebookParameters.VariablePrefix}KEY=value); repeatable",
            DefaultValueFactory = _ => [],
        };
        var run = new Command("run",
            "Run notebooks top to bottom in the .NET Interactive C# kernel and report the first failing cell");
        run.Arguments.Add(paths);
        run.Options.Add(output);
        run.Options.Add(parameters);
        run.SetAction(async (parseResult, cancellationToken) =>
        {
            var (console, errors) = (parseResult.InvocationConfiguration.Output,
                parseResult.InvocationConfiguration.Error);
            try
            {
                var variables = NotebookParameters.ToVariables(parseResult.GetValue(parameters) ?? []);
                var outputFolder = parseResult.GetValue(output);
                foreach (var path in parseResult.GetValue(paths)!)
                {
                    var outputPath = outputFolder is null ? null : Path.Combine(outputFolder, Path.GetFileName(path));
                    var started = DateTime.UtcNow;
                    var result = await NotebookRunner.RunAsync(path,
                        new NotebookRunOptions(outputPath, variables, console.WriteLine), cancellationToken);
                    console.WriteLine($"ok: {path} ({result.ExecutedCells} cells in " +
                                      $"{(DateTime.UtcNow - started).TotalSeconds:F0} s" +
                                      $"{(outputPath is null ? "" : $", written to {outputPath}")})");
                }
                return 0;
            }
            catch (Exception e) when (e is NotebookExecutionException or InvalidDataException or FileNotFoundException
                or ArgumentException)
            {
                errors.WriteLine($"error: {e.Message}");
                return 1;
            }
        });

        var notebook = new Command("notebook", "The kit's .NET Interactive notebooks (.ipynb)");
        notebook.Subcommands.Add(run);
        return notebook;
    }
}
