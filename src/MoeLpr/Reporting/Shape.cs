namespace MoeLpr.Reporting;

/// <summary>Argument-shape checks for chart and view inputs, with messages that name what does not fit.</summary>
internal static class Shape
{
    internal static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
