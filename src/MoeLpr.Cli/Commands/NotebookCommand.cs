using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using MoeLpr.NotebookHost;
using MoeLpr.Notebooks;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr notebook run PATH... [--output DIR] [--param key=value]...</c>: runs notebooks in the .NET Interactive
/// engine.
/// </summary>
public static class NotebookCommand
{
    const string NotebooksSwitch = "MoeLpr.Cli.CanRunNotebooks";

    /// <summary>
    /// False in a trimmed publish (the csproj sets the switch there), where the trimmer then drops the engine.
    /// </summary>
    [FeatureSwitchDefinition(NotebooksSwitch)]
    static bool CanRunNotebooks => !AppContext.TryGetSwitch(NotebooksSwitch, out bool enabled) || enabled;

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "the engine runs only where CanRunNotebooks; " +
        "a trimmed publish sets it to false and the trimmer removes the call")]
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Notebooks (.ipynb) to run, in order", Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--output", "--out", "-o")
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
        run.SetAction((parseResult, cancellationToken) => CanRunNotebooks
            ? RunAsync(parseResult.GetValue(paths)!, parseResult.GetValue(output),
                parseResult.GetValue(parameters) ?? [],
                parseResult.InvocationConfiguration, cancellationToken)
            : Refuse(parseResult.InvocationConfiguration.Error));

        var notebook = new Command("notebook", "The kit's .NET Interactive notebooks (.ipynb)");
        notebook.Subcommands.Add(run);
        return notebook;
    }

    [RequiresUnreferencedCode(NotebookRunner.NeedsReflection)]
    static async Task<int> RunAsync(string[] paths, string? outputFolder, string[] parameters,
        InvocationConfiguration io, CancellationToken cancellationToken)
    {
        try
        {
            var variables = NotebookParameters.ToVariables(parameters);
            await WarnOfUnreadParameters(paths, variables.Keys, io.Error, cancellationToken);
            foreach (var path in paths)
            {
                // Absolute before the runner moves into the notebook's folder, where a relative path would land.
                var outputPath = outputFolder is null
                    ? null
                    : Path.Combine(Path.GetFullPath(outputFolder), Path.GetFileName(path));
                if (outputPath == Path.GetFullPath(path))
                    throw new ArgumentException($"{path}: --output {outputFolder} would overwrite the notebook itself");
                var started = DateTime.UtcNow;
                var result = await NotebookRunner.RunAsync(path,
                    new NotebookRunOptions(outputPath, variables, io.Output.WriteLine), cancellationToken);
                io.Output.WriteLine($"ok: {path} ({result.ExecutedCells} cells in " +
                                    $"{(DateTime.UtcNow - started).TotalSeconds:F0} s" +
                                    $"{(outputPath is null ? "" : $", written to {outputPath}")})");
            }
            return 0;
        }
        catch (Exception e) when (e is NotebookExecutionException or InvalidDataException or IOException
            or UnauthorizedAccessException or ArgumentException)
        {
            io.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>A key no notebook reads is most likely mistyped: the run would quietly use the default.</summary>
    [RequiresUnreferencedCode(NotebookRunner.NeedsReflection)]
    static async Task WarnOfUnreadParameters(string[] paths, IEnumerable<string> variables, TextWriter error,
        CancellationToken cancellationToken)
    {
        var read = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in paths) read.UnionWith(await NotebookRunner.ParameterNamesAsync(path, cancellationToken));
        var readVariables = read.Select(NotebookParameters.VariableFor).ToHashSet();
        foreach (var variable in variables.Where(variable => !readVariables.Contains(variable)))
        {
            var key = variable[NotebookParameters.VariablePrefix.Length..].ToLowerInvariant();
            error.WriteLine($"warning: --param {key}: no notebook given reads it with NotebookParameters.Get; " +
                            $"they read {(read.Count == 0 ? "none" : string.Join(", ", read))}");
        }
    }

    static Task<int> Refuse(TextWriter error)
    {
        error.WriteLine($"error: this is a trimmed publish of the kit: {NotebookRunner.NeedsReflection}");
        return Task.FromResult(1);
    }
}
