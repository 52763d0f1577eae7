using System.ComponentModel;
using System.Globalization;

namespace MoeLpr.Notebooks;

/// <summary>
/// Values injected into a notebook run (CLI <c>--param key=value</c>, or typed values from tests), read by the
/// notebook as <c>Parameters.Get("steps", 200)</c> so the same notebook runs full-size by hand and small in CI.
/// </summary>
public sealed class NotebookParameters
{
    readonly Dictionary<string, object?> _values;

    public NotebookParameters(IReadOnlyDictionary<string, object?>? values = null) =>
        _values = values is null ? new(StringComparer.Ordinal) : new(values, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _values.Keys;

    public bool Contains(string name) => _values.ContainsKey(name);

    /// <summary>
    /// The parameter converted to <typeparamref name="T"/> (strings parse with the invariant culture), or
    /// <paramref name="defaultValue"/> when it was not given.
    /// </summary>
    public T Get<T>(string name, T defaultValue)
    {
        if (!_values.TryGetValue(name, out var value)) return defaultValue;
        if (value is T typed) return typed;
        try
        {
            var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
            if (value is string text) return (T)TypeDescriptor.GetConverter(target).ConvertFromString(null, CultureInfo.InvariantCulture, text)!;
            return (T)Convert.ChangeType(value, target, CultureInfo.InvariantCulture)!;
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or NotSupportedException or ArgumentException or OverflowException)
        {
            throw new ArgumentException($"notebook parameter '{name}' = '{value}' is not a valid {typeof(T).Name}", e);
        }
    }

    /// <summary>Parses <c>key=value</c> strings (the value may contain '='); a repeated key keeps the last value.</summary>
    public static NotebookParameters Parse(IEnumerable<string> assignments)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var assignment in assignments)
        {
            var separator = assignment.IndexOf('=');
            if (separator <= 0) throw new ArgumentException($"parameter '{assignment}' is not of the form key=value");
            values[assignment[..separator].Trim()] = assignment[(separator + 1)..];
        }
        return new NotebookParameters(values);
    }
}
