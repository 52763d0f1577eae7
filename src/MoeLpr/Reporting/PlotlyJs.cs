using System.Text.RegularExpressions;
using Plotly.NET;

namespace MoeLpr.Reporting;

/// <summary>
/// The full plotly.js that Plotly.NET carries as an embedded resource, so reports and executed notebooks render
/// offline (Plotly.NET's own HTML export points at the CDN).
/// </summary>
public static class PlotlyJs
{
    static readonly Lazy<(string Name, string Source)> Resource = new(LoadResource);

    /// <summary>The plotly.js version, read from the resource name (e.g. "2.28.0").</summary>
    public static string Version => Regex.Match(Resource.Value.Name, @"plotly-(\d+\.\d+\.\d+)").Groups[1].Value;

    /// <summary>The minified plotly.js source (about 3.6 MB).</summary>
    public static string Source => Resource.Value.Source;

    /// <summary>
    /// Inline script tags that define <c>window.Plotly</c>. AMD loaders (classic Jupyter ships require.js) would
    /// capture plotly's UMD bundle as a module and leave <c>Plotly</c> undefined, so <c>define</c> is hidden while
    /// the bundle runs and restored afterwards.
    /// </summary>
    public static string InlineScriptTags =>
        "<script>window.__moelprDefine = window.define; window.define = undefined;</script>\n" +
        $"<script type=\"text/javascript\">{Source}</script>\n" +
        "<script>window.define = window.__moelprDefine; delete window.__moelprDefine;</script>\n";

    static (string, string) LoadResource()
    {
        var assembly = typeof(GenericChart).Assembly;
        var name = assembly.GetManifestResourceNames()
            .SingleOrDefault(n => Regex.IsMatch(n, @"plotly-[\d.]+\.min\.js$"))
                   ?? throw new InvalidOperationException($"{assembly.GetName().Name} carries no plotly.js resource");
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return (name, reader.ReadToEnd());
    }
}
