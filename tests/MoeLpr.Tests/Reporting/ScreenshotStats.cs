using SkiaSharp;

namespace MoeLpr.Tests.Reporting;

/// <summary>
/// How much of a screenshot region is drawn: the share of non-white pixels and the number of distinct colours.
/// </summary>
readonly record struct ScreenshotStats(double NonWhiteFraction, int DistinctColors)
{
    /// <summary>The PNG's size and the statistics of one region of it (decoded with SkiaSharp).</summary>
    public static (int Width, int Height, ScreenshotStats Region) Of(string pngPath, int left, int top,
        int width, int height)
    {
        using var image = SKBitmap.Decode(pngPath)
            ?? throw new InvalidDataException($"{pngPath}: not a decodable image");
        var colors = new HashSet<uint>();
        var nonWhite = 0;
        for (var y = top; y < Math.Min(top + height, image.Height); y++)
        for (var x = left; x < Math.Min(left + width, image.Width); x++)
        {
            var pixel = image.GetPixel(x, y);
            if (pixel.Red < 245 || pixel.Green < 245 || pixel.Blue < 245) nonWhite++;
            colors.Add((uint)pixel & 0xFFFFFF);
        }
        return (image.Width, image.Height, new ScreenshotStats(nonWhite / (double)(width * height), colors.Count));
    }
}
