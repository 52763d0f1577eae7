using System.Globalization;

namespace MoeLpr.Reporting;

/// <summary>
/// How a table cell value is written, identically in HTML, Markdown and notebook output: invariant culture, 6
/// significant digits.
/// </summary>
internal static class CellText
{
    internal static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        decimal m => m.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    internal static bool IsNumeric(Type type) =>
        type == typeof(double) || type == typeof(float) || type == typeof(decimal) || type == typeof(int) ||
        type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) ||
        type == typeof(ulong) || type == typeof(ushort) || type == typeof(sbyte);
}
