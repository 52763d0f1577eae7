using MoeLpr.Tests.TestSupport;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Reporting;

/// <summary>
/// Renders reports in headless Chromium and checks that the charts really drew (skipped without Chromium).
/// </summary>
public class HeadlessBrowserTests
{
    static string Chromium()
    {
        var chromium = HeadlessBrowser.FindChromium();
        Skip.If(chromium is null,
            "Chromium is not installed (apt-get install chromium); browser rendering checks skipped");
        return chromium!;
    }

    [SkippableFact]
    public void ReportChartsDrawWithoutScriptErrors()
    {
        Chromium();
        var folder = Directory.CreateTempSubdirectory("moelpr-render-").FullName;
        var htmlPath = Path.Combine(folder, "report.html");
        SampleReport.Build().Save(htmlPath);

        var render = HeadlessBrowser.Screenshot(htmlPath, Path.Combine(folder, "report.png"),
            width: 1280, height: 3200);

        Assert.Empty(render.ScriptErrors);
        var (width, height, band) = ScreenshotStats.Of(render.ScreenshotPath, 0, 150, 1280, 600);
        Assert.Equal((1280, 3200), (width, height));
        // The first chart (the heatmap) sits below the title and heading: the band must be mostly drawn and colourful.
        Assert.True(band.NonWhiteFraction > 0.15, $"chart band is almost blank ({band.NonWhiteFraction:P1} non-white)");
        Assert.True(band.DistinctColors > 40, $"chart band has only {band.DistinctColors} colours");
        // Further down (training curves, perplexity) must be drawn too, not only the first chart.
        var lower = ScreenshotStats.Of(render.ScreenshotPath, 0, 1600, 1280, 1400).Region;
        Assert.True(lower.NonWhiteFraction > 0.05,
            $"lower charts are almost blank ({lower.NonWhiteFraction:P1} non-white)");
        Assert.True(lower.DistinctColors > 20, $"lower charts have only {lower.DistinctColors} colours");
    }

    [SkippableFact]
    public void ScriptErrorsAreReported()
    {
        Chromium();
        var folder = Directory.CreateTempSubdirectory("moelpr-render-").FullName;
        var htmlPath = Path.Combine(folder, "broken.html");
        File.WriteAllText(htmlPath,
            "<html><body><p>text</p><script>console.log('fine'); notDefinedAnywhere();</script></body></html>");

        var render = HeadlessBrowser.Screenshot(htmlPath, Path.Combine(folder, "broken.png"), width: 400, height: 300);

        Assert.Contains(render.ConsoleMessages, m => m.StartsWith("fine", StringComparison.Ordinal));
        Assert.Contains(render.ScriptErrors, e => e.Contains("notDefinedAnywhere"));
        Assert.DoesNotContain(render.ScriptErrors, e => e.StartsWith("fine", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void MissingPageIsAClearError()
    {
        Chromium();
        var error = Assert.Throws<FileNotFoundException>(
            () => HeadlessBrowser.Screenshot("/nonexistent/page.html", Path.GetTempFileName()));
        Assert.Contains("/nonexistent/page.html", error.Message);
    }
}
