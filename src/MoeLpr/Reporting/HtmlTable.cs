using System.Net;
using System.Text;

namespace MoeLpr.Reporting;

/// <summary>Renders rows of values as an HTML table (class <c>moelpr-table</c>, numbers right-aligned).</summary>
public static class HtmlTable
{
    /// <summary>
    /// A table with a header row; every row must have as many cells as there are headers. Only the first
    /// <paramref name="maxRows"/> rows are written, followed by a note saying how many were left out.
    /// </summary>
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<object?>> rows,
        string? caption = null, int maxRows = 200)
    {
        var html = new StringBuilder("<table class=\"moelpr-table\">\n");
        if (caption is not null) html.Append("<caption>").Append(WebUtility.HtmlEncode(caption)).Append("</caption>\n");
        html.Append("<thead><tr>");
        foreach (var header in headers) html.Append("<th>").Append(WebUtility.HtmlEncode(header)).Append("</th>");
        html.Append("</tr></thead>\n<tbody>\n");
        var count = 0;
        foreach (var row in rows)
        {
            if (row.Count != headers.Count)
                throw new ArgumentException($"row {count + 1} has {row.Count} cells for {headers.Count} headers");
            count++;
            if (count > maxRows) continue;
            html.Append("<tr>");
            foreach (var cell in row)
            {
                var numeric = cell is not null && CellText.IsNumeric(cell.GetType());
                html.Append(numeric ? "<td class=\"num\">" : "<td>")
                    .Append(WebUtility.HtmlEncode(CellText.Format(cell))).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
        if (count > maxRows)
            html.Append($"<p class=\"moelpr-note\">{count - maxRows} more rows not shown ({count} in all).</p>\n");
        return html.ToString();
    }
}
