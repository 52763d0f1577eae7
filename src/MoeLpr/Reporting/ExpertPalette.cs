namespace MoeLpr.Reporting;

/// <summary>
/// One colour per expert, shared by every chart and the token routing view so that "expert 2" looks the same
/// everywhere. Expert 0 (the frozen original MLP) gets a dark slate that stands apart from the bright colours of
/// the new experts.
/// </summary>
public static class ExpertPalette
{
    /// <summary>Colour of expert 0, the original dense MLP that stays frozen.</summary>
    public const string OriginalExpertColor = "#2f3e55";

    // Colour-blind-friendly qualitative colours (Okabe–Ito, then Tableau) for experts 1, 2, ...
    static readonly string[] NewExpertColors =
    [
        "#e69f00", "#56b4e9", "#009e73", "#d55e00", "#cc79a7", "#f0e442", "#0072b2",
        "#8c564b", "#bcbd22", "#17becf", "#9467bd", "#ff9da7",
    ];

    /// <summary>Hex colour (#rrggbb) of an expert; ids past the palette cycle through it.</summary>
    public static string ColorOf(int expert)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expert);
        return expert == 0 ? OriginalExpertColor : NewExpertColors[(expert - 1) % NewExpertColors.Length];
    }

    /// <summary>Legend label of an expert: expert 0 is named as the frozen original.</summary>
    public static string LabelOf(int expert) => expert == 0 ? "expert 0 (original, frozen)" : $"expert {expert}";

    /// <summary>Black or white, whichever reads better on the expert's colour (WCAG relative luminance).</summary>
    public static string TextColorOn(int expert)
    {
        var hex = ColorOf(expert);
        double Channel(int offset)
        {
            var c = Convert.ToInt32(hex.Substring(offset, 2), 16) / 255.0;
            return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        var luminance = 0.2126 * Channel(1) + 0.7152 * Channel(3) + 0.0722 * Channel(5);
        return luminance > 0.4 ? "#111111" : "#ffffff";
    }
}
