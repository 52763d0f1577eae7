using System.Diagnostics;
using System.Text.Json.Nodes;
using MoeLpr.Notebooks;

namespace MoeLpr.Tests.TestSupport;

/// <summary>
/// Runs a notebook the two ways users do, each in its own process: in Jupyter's <c>.net-csharp</c> kernel
/// (<c>python3 -m nbconvert --execute</c>, i.e. nbclient with the kernel <c>dotnet interactive jupyter install</c>
/// registered) and with <c>moelpr notebook run</c>. Parameters travel as <c>MOELPR_NB_*</c> environment variables.
/// The notebook runs in its own folder, which must be inside the checkout (the kernel is the repository's local tool).
/// </summary>
public static class NotebookRuns
{
    public sealed record Result(int ExitCode, string Console, string ExecutedPath)
    {
        public JsonObject Executed => JsonNode.Parse(File.ReadAllText(ExecutedPath))!.AsObject();

        /// <summary>
        /// The first cell with an error output: its 1-based position, error name and value; null when none.
        /// </summary>
        public (int Cell, string Name, string Value)? FirstError()
        {
            var cells = Executed["cells"]!.AsArray();
            for (var i = 0; i < cells.Count; i++)
                foreach (var output in cells[i]!["outputs"]?.AsArray() ?? [])
                    if (output!["output_type"]!.GetValue<string>() == "error")
                        return (i + 1, output["ename"]!.GetValue<string>(), output["evalue"]!.GetValue<string>());
            return null;
        }

        /// <summary>
        /// "notebook: cell N failed: name: value" for the first error, or null: what a failing test should say.
        /// </summary>
        public string? Failure(string notebook) =>
            FirstError() is { } e ? $"{notebook}: cell {e.Cell} failed: {e.Name}: {e.Value}" : null;
    }

    static readonly Lazy<string?> JupyterPython = new(FindJupyterPython);

    /// <summary>
    /// Why Jupyter runs are impossible here (no nbconvert, no .net-csharp kernel), or null when they are possible.
    /// </summary>
    public static string? JupyterMissing => JupyterPython.Value is null
        ? "Jupyter with the .net-csharp kernel is not installed (apt-get install jupyter-notebook python3-nbconvert " +
          "python3-nbclient; dotnet tool restore; dotnet interactive jupyter install): see .ci/run"
        : null;

    public static Result Jupyter(string notebook, string outputFolder,
        IReadOnlyDictionary<string, string>? parameters = null)
    {
        var python = JupyterPython.Value ?? throw new InvalidOperationException(JupyterMissing);
        Directory.CreateDirectory(outputFolder);
        var run = Start(python, ["-m", "nbconvert", "--to", "notebook", "--execute",
                                 "--ExecutePreprocessor.kernel_name=.net-csharp",
                                 "--ExecutePreprocessor.allow_errors=True", "--ExecutePreprocessor.timeout=900",
                                 "--output-dir", outputFolder, notebook], parameters);
        return new Result(run.ExitCode, run.Console, Path.Combine(outputFolder, Path.GetFileName(notebook)));
    }

    /// <param name="workingDirectory">The folder the command runs in, which a relative output folder is under.</param>
    public static Result Moelpr(string notebook, string outputFolder,
        IReadOnlyDictionary<string, string>? parameters = null, string? workingDirectory = null)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "MoeLpr.Cli.dll");
        var run = Start("dotnet", [cli, "notebook", "run", notebook, "--output", outputFolder], parameters,
            workingDirectory);
        return new Result(run.ExitCode, run.Console,
            Path.Combine(workingDirectory ?? "", outputFolder, Path.GetFileName(notebook)));
    }

    /// <summary>HTML of an executed notebook as Jupyter exports it (<c>nbconvert --to html</c>).</summary>
    public static string ExportHtml(string executedNotebook, string outputFolder)
    {
        var python = JupyterPython.Value ?? throw new InvalidOperationException(JupyterMissing);
        var run = Start(python,
            ["-m", "nbconvert", "--to", "html", "--output-dir", outputFolder, executedNotebook], null);
        var html = Path.Combine(outputFolder, Path.GetFileNameWithoutExtension(executedNotebook) + ".html");
        if (run.ExitCode != 0 || !File.Exists(html))
            throw new InvalidOperationException($"nbconvert --to html failed:\n{run.Console}");
        return html;
    }

    static (int ExitCode, string Console) Start(string program, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? parameters, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in parameters ?? new Dictionary<string, string>())
            start.Environment[NotebookParameters.VariableFor(name)] = value;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(
                $"{program} {string.Join(' ', start.ArgumentList)} did not finish in 15 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    // Debian's python3 (where apt installs nbconvert) may sit behind another python3 on PATH (pyenv).
    static string? FindJupyterPython()
    {
        foreach (var python in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var check = Start(python, ["-c", "import nbconvert, jupyter_client.kernelspec as k; " +
                                                 "print('.net-csharp' in k.KernelSpecManager().find_kernel_specs())"],
                                                 null);
                if (check.ExitCode == 0 && check.Console.Trim().EndsWith("True", StringComparison.Ordinal))
                    return python;
            }
            catch (System.ComponentModel.Win32Exception) { } // not installed
        }
        return null;
    }
}
