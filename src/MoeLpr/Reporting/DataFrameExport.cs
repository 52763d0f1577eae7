using System.Globalization;
using System.Text;
using Microsoft.Data.Analysis;

namespace MoeLpr.Reporting;

/// <summary>DataFrame output in culture-independent forms: CSV files, Markdown tables, HTML tables.</summary>
public static class DataFrameExport
{
    /// <summary>Writes a CSV with a header row, comma separators and invariant-culture numbers (never "0,5").</summary>
    public static void WriteCsv(DataFrame frame, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        DataFrame.SaveCsv(frame, path, separator: ',', header: true, encoding: new UTF8Encoding(false),
            cultureInfo: CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A GitHub-flavoured Markdown pipe table; numeric columns are right-aligned, '|' in text is escaped.
    /// </summary>
    public static string ToMarkdown(DataFrame frame)
    {
        var columns = frame.Columns.ToList();
        var markdown = new StringBuilder();
        markdown.Append("| ").AppendJoin(" | ", columns.Select(c => Escape(c.Name))).Append(" |\n");
        markdown.Append('|')
            .AppendJoin("|", columns.Select(c => CellText.IsNumeric(c.DataType) ? " ---: " : " --- ")).Append("|\n");
        for (long row = 0; row < frame.Rows.Count; row++)
            markdown.Append("| ")
                .AppendJoin(" | ", columns.Select(c => Escape(CellText.Format(c[row])))).Append(" |\n");
        return markdown.ToString();
    }

    /// <summary>An HTML table of the frame (first <paramref name="maxRows"/> rows).</summary>
    public static string ToHtmlTable(DataFrame frame, string? caption = null, int maxRows = 200)
    {
        var headers = frame.Columns.Select(c => c.Name).ToList();
        var rows = Enumerable.Range(0, (int)frame.Rows.Count)
            .Select(row => (IReadOnlyList<object?>)frame.Columns.Select(c => c[row]).ToList());
        return HtmlTable.Render(headers, rows, caption, maxRows);
    }

    static string Escape(string text) => text.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
}
