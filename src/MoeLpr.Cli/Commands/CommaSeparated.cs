using System.Globalization;

namespace MoeLpr.Cli.Commands;

/// <summary>Parses option values such as <c>--ids 5,17,3</c>.</summary>
internal static class CommaSeparated
{
    public static long[] Longs(string value, string option) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
             .Select(item => long.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                 ? n
                 : throw new ArgumentException($"{option}: '{item}' is not an integer"))
             .ToArray();

    /// <summary>0/1 flags, e.g. <c>--old-mask 1,1,0</c>.</summary>
    public static bool[] Flags(string value, string option) =>
        Longs(value, option).Select(n => n switch
        {
            0 => false,
            1 => true,
            _ => throw new ArgumentException($"{option}: flags must be 0 or 1 (got {n})"),
        }).ToArray();
}
