using System.Globalization;
using Microsoft.Data.Analysis;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Reporting;

public class DataFrameExportTests
{
    static DataFrame Frame() => new(
        new StringDataFrameColumn("language", ["en", "el|gr"]),
        new Int32DataFrameColumn("layer", [0, 3]),
        new DoubleDataFrameColumn("share", [0.5, 0.125]));

    [Fact]
    public void CsvUsesInvariantNumbersEvenUnderACommaDecimalCulture()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("moelpr-csv-").FullName, "out", "share.csv");
        var commaCulture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        commaCulture.NumberFormat.NumberDecimalSeparator = ",";
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = commaCulture;
        try { DataFrameExport.WriteCsv(Frame(), path); }
        finally { CultureInfo.CurrentCulture = previous; }

        var lines = File.ReadAllLines(path);
        Assert.Equal(["language,layer,share", "en,0,0.5", "el|gr,3,0.125"], lines);
    }

    [Fact]
    public void MarkdownTableRightAlignsNumbersAndEscapesPipes()
    {
        Assert.Equal(
            "| language | layer | share |\n| --- | ---: | ---: |\n| en | 0 | 0.5 |\n| el\\|gr | 3 | 0.125 |\n",
            DataFrameExport.ToMarkdown(Frame()));
    }

    [Fact]
    public void HtmlTableListsColumnsAndNotesRowsLeftOut()
    {
        var html = DataFrameExport.ToHtmlTable(Frame(), caption: "shares", maxRows: 1);
        Assert.Contains("<th>language</th><th>layer</th><th>share</th>", html);
        Assert.Contains("<td>en</td><td class=\"num\">0</td><td class=\"num\">0.5</td>", html);
        Assert.DoesNotContain("el|gr", html);
        Assert.Contains("1 more rows not shown (2 in all)", html);
    }
}
