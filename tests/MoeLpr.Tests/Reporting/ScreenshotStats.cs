using MoeLpr.Tests.TestSupport;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Reporting;

/// <summary>How much of a screenshot region is drawn: the share of non-white pixels and the number of distinct colours.</summary>
readonly record struct ScreenshotStats(double NonWhiteFraction, int DistinctColors)
{
    public static ScreenshotStats Of(PngImage image, int left, int top, int width, int height)
    {
        var colors = new HashSet<int>();
        var nonWhite = 0;
        for (var y = top; y < Math.Min(top + height, image.Height); y++)
        for (var x = left; x < Math.Min(left + width, image.Width); x++)
        {
            var (r, g, b, _) = image[x, y];
            if (r < 245 || g < 245 || b < 245) nonWhite++;
            colors.Add(r << 16 | g << 8 | b);
        }
        return new ScreenshotStats(nonWhite / (double)(width * height), colors.Count);
    }
}
