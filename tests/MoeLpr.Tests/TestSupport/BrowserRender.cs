using MoeLpr.Tests.TestSupport;
namespace MoeLpr.Tests.TestSupport;

/// <summary>What a headless render produced: the screenshot and the page's console output.</summary>
/// <param name="ConsoleMessages">Every console message the page logged ("message (source)").</param>
/// <param name="ScriptErrors">The console messages that are script errors (uncaught exceptions, error-level
/// logs).</param>
public sealed record BrowserRender(string ScreenshotPath, IReadOnlyList<string> ConsoleMessages,
    IReadOnlyList<string> ScriptErrors);
