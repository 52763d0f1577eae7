using System.Globalization;
using System.Text.RegularExpressions;

namespace MoeLpr.Notebooks;

/// <summary>
/// A notebook's sizes and paths, overridable from outside so that the same notebook runs full-size when a person opens
/// it and small in the tests: <c>NotebookParameters.Get("stage1_steps", 300)</c> is 300 unless the environment variable
/// <c>MOELPR_NB_STAGE1_STEPS</c> is set. Environment variables reach every kernel the same way (Jupyter, VS Code,
/// dotnet-repl, <c>moelpr notebook run --param</c>); stdin prompts do not (nbclient has no stdin).
/// </summary>
public static partial class NotebookParameters
{
    public const string VariablePrefix = "MOELPR_NB_";

    /// <summary>The environment variable that overrides parameter <paramref name="name"/>.</summary>
    public static string VariableFor(string name) => VariablePrefix + name.ToUpperInvariant();

    /// <summary>
    /// The parameter's value from its environment variable, converted with the invariant culture, or
    /// <paramref name="defaultValue"/> when the variable is unset or empty.
    /// </summary>
    public static T Get<T>(string name, T defaultValue)
    {
        var variable = VariableFor(name);
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text)) return defaultValue;
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        try
        {
            return (T)Convert.ChangeType(text, target, CultureInfo.InvariantCulture);
        }
        catch (Exception e)
            when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException(
                $"notebook parameter '{name}' ({variable}={text}) is not a valid {target.Name}", e);
        }
    }

    /// <summary>
    /// Reads <c>key=value</c> assignments (the value may contain '=') as the environment variables that carry them;
    /// a repeated key keeps its last value.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ToVariables(IEnumerable<string> assignments)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var assignment in assignments)
        {
            var separator = assignment.IndexOf('=');
            if (separator <= 0) throw new ArgumentException($"parameter '{assignment}' is not of the form key=value");
            variables[VariableFor(assignment[..separator].Trim())] = assignment[(separator + 1)..];
        }
        return variables;
    }

    /// <summary>
    /// The parameter names <paramref name="code"/> reads with a literal name,
    /// <c>NotebookParameters.Get("name", ...)</c>: what a runner checks its <c>--param</c> keys against, so that a
    /// mistyped key does not pass unnoticed.
    /// </summary>
    public static IEnumerable<string> NamesReadIn(string code) =>
        GetCall().Matches(code).Select(match => match.Groups["name"].Value);

    [GeneratedRegex(@"NotebookParameters\s*\.\s*Get\s*(<[^>]*>)?\s*\(\s*""(?<name>[^""]+)""")]
    private static partial Regex GetCall();
}
