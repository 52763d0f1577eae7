using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace MoeLpr.Data;

/// <summary>
/// Turns one LibreOffice help page (the HTML that Debian's <c>libreoffice-help-*</c> packages ship) into readable plain
/// text: only the <c>DisplayArea</c> article is kept; navigation, note icons, "Related Topics" and code samples (the
/// same in every language, so they would blur the language signal) are dropped; block elements become line breaks and
/// whitespace is collapsed.
/// </summary>
public static partial class HelpPageText
{
    /// <summary>
    /// Elements whose whole content is dropped, keyed by tag name, matched by a class or id in the tag.
    /// </summary>
    static readonly (string Tag, string Marker)[] DroppedElements =
    [
        ("div", "class=\"noteicon\""),
        ("div", "class=\"relatedtopics\""),
        ("div", "class=\"bascode\""),
        ("div", "class=\"pycode\""),
        ("pre", ""),
        ("script", ""),
        ("style", ""),
    ];

    static readonly HashSet<string> BlockElements =
        ["p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
            "pre", "section"];

    [GeneratedRegex("<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")]
    private static partial Regex TagPattern();

    [GeneratedRegex("[ \\t\\u00A0\\u200B\\r\\f\\v]+")]
    private static partial Regex SpacesPattern();

    /// <summary>
    /// The page's article text, or an empty string when the page has no article (index pages, redirects).
    /// </summary>
    public static string Extract(string html)
    {
        int start = html.IndexOf("<div id=\"DisplayArea\"", StringComparison.Ordinal);
        if (start < 0) return "";
        int end = html.IndexOf("<div id=\"SearchFrame\"", start, StringComparison.Ordinal);
        if (end < 0) end = html.IndexOf("<footer", start, StringComparison.Ordinal);
        if (end < 0) end = html.Length;
        string article = html[start..end];

        var text = new StringBuilder();
        string? droppedTag = null; // inside a dropped element: its tag name and how deep we are in same-named tags
        int droppedDepth = 0;
        int position = 0;
        foreach (Match tag in TagPattern().Matches(article))
        {
            if (droppedTag is null) text.Append(article, position, tag.Index - position);
            position = tag.Index + tag.Length;

            bool closing = tag.Groups[1].Length > 0;
            string name = tag.Groups[2].Value.ToLowerInvariant();
            string attributes = tag.Groups[3].Value;
            if (droppedTag is not null)
            {
                if (name != droppedTag) continue;
                droppedDepth += closing ? -1 : 1;
                if (droppedDepth == 0) droppedTag = null;
                continue;
            }
            if (!closing && IsDropped(name, attributes))
            {
                droppedTag = name;
                droppedDepth = 1;
                continue;
            }
            if (BlockElements.Contains(name)) text.Append('\n');
        }
        if (droppedTag is null) text.Append(article, position, article.Length - position);
        return Normalise(WebUtility.HtmlDecode(text.ToString()));
    }

    static bool IsDropped(string name, string attributes)
    {
        foreach (var (tag, marker) in DroppedElements)
            if (tag == name && attributes.Contains(marker, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Collapses runs of spaces, trims every line and drops empty lines.</summary>
    static string Normalise(string text)
    {
        var lines = text.Split('\n')
            .Select(line => SpacesPattern().Replace(line, " ").Trim())
            .Where(line => line.Length > 0);
        return string.Join('\n', lines);
    }
}
