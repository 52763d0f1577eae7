using MoeLpr.Tests.TestSupport;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MoeLpr.Tests.TestSupport;

/// <summary>
/// Renders a local HTML file to PNG with headless Chromium and collects the page's console messages, so tests can
/// check that reports actually draw (plotly.js loaded, no script error). Every run uses a fresh profile and no
/// network-facing background services.
/// </summary>
public static partial class HeadlessBrowser
{
    static readonly string[] KnownLocations = ["/usr/bin/chromium", "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

    /// <summary>
    /// The Chromium executable: <c>$CHROMIUM_PATH</c> if set, else the first known location that exists; null when
    /// none.
    /// </summary>
    public static string? FindChromium()
    {
        var configured = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
        if (!string.IsNullOrEmpty(configured)) return File.Exists(configured) ? configured : null;
        return KnownLocations.FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// Loads <paramref name="htmlPath"/>, lets scripts run for up to 5 s of virtual time, and writes a
    /// <paramref name="width"/>×<paramref name="height"/> screenshot to <paramref name="pngPath"/>.
    /// </summary>
    public static BrowserRender Screenshot(string htmlPath, string pngPath, int width = 1280, int height = 1600,
        TimeSpan? timeout = null, string? chromiumPath = null, bool offline = false)
    {
        var screenshot = Path.GetFullPath(pngPath);
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);
        var (chromium, page, log, exitCode) = Run(htmlPath,
            [$"--screenshot={screenshot}", $"--window-size={width},{height}"], timeout, chromiumPath, offline);
        if (!File.Exists(screenshot) || new FileInfo(screenshot).Length == 0)
            throw new InvalidOperationException(
                $"{chromium} wrote no screenshot of {page} (exit code {exitCode}):\n{Tail(log.Stderr)}");

        var messages = new List<string>();
        var errors = new List<string>();
        foreach (Match match in ConsoleLine().Matches(log.Stderr + log.Stdout))
        {
            var message = $"{match.Groups["message"].Value} ({match.Groups["source"].Value.Trim()})";
            messages.Add(message);
            if (match.Groups["level"].Value is "ERROR" or "FATAL" ||
                match.Groups["message"].Value.StartsWith("Uncaught", StringComparison.Ordinal))
                errors.Add(message);
        }
        return new BrowserRender(screenshot, messages, errors);
    }

    /// <summary>
    /// The page's DOM after its scripts ran (up to 5 s of virtual time): what plotly.js drew, as SVG markup.
    /// </summary>
    public static string RenderedDom(string htmlPath, TimeSpan? timeout = null, string? chromiumPath = null,
        bool offline = false)
    {
        var (chromium, page, log, exitCode) = Run(htmlPath, ["--dump-dom"], timeout, chromiumPath, offline);
        if (log.Stdout.Length == 0)
            throw new InvalidOperationException(
                $"{chromium} printed no DOM for {page} (exit code {exitCode}):\n{Tail(log.Stderr)}");
        return log.Stdout;
    }

    static (string Chromium, string Page, (string Stdout, string Stderr) Log, int ExitCode) Run(
        string htmlPath, IEnumerable<string> mode, TimeSpan? timeout, string? chromiumPath, bool offline = false)
    {
        var chromium = chromiumPath ?? FindChromium() ?? throw new FileNotFoundException(
            "Chromium not found (install the 'chromium' package or set CHROMIUM_PATH)");
        var page = Path.GetFullPath(htmlPath);
        if (!File.Exists(page)) throw new FileNotFoundException($"{page}: HTML file not found", page);
        var profile = Directory.CreateTempSubdirectory("moelpr-chromium-");
        try
        {
            var start = new ProcessStartInfo(chromium)
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            };
            string[] common =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                $"--user-data-dir={profile.FullName}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
            ];
            // Offline: every host name fails to resolve, so a page that needs a CDN shows it.
            IEnumerable<string> network = offline ? ["--host-resolver-rules=MAP * ~NOTFOUND"] : [];
            foreach (var argument in common.Concat(network).Concat(mode).Append(new Uri(page).AbsoluteUri))
                start.ArgumentList.Add(argument);

            using var process = Process.Start(start)
                ?? throw new InvalidOperationException($"could not start {chromium}");
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{chromium} did not finish rendering {page} in time");
            }
            return (chromium, page, (stdout.Result, stderr.Result), process.ExitCode);
        }
        finally
        {
            try { profile.Delete(recursive: true); }
            // Chromium helpers may still hold files for a moment; a temp folder left behind is harmless.
            catch (IOException) { }
        }
    }

    static string Tail(string log) => log.Length <= 2000 ? log : log[^2000..];

    // e.g. [9369:9369:1122/221127.568294:INFO:CONSOLE:2] "Uncaught ReferenceError: x is not defined", source:
    // file:///tmp/a.html (2)
    [GeneratedRegex("""(?<level>[A-Z]+):CONSOLE[^\]]*\]\s*"(?<message>.*)", source: (?<source>[^\r\n]*)""")]
    private static partial Regex ConsoleLine();
}
