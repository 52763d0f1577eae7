using System.Globalization;
using Microsoft.Data.Analysis;

namespace MoeLpr.Evaluation;

/// <summary>Writes DataFrames as CSV with the invariant culture (DataFrame.SaveCsv defaults to the current one,
/// which would write "0,5" on a German machine).</summary>
public static class FrameCsv
{
    public static void Save(DataFrame frame, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        DataFrame.SaveCsv(frame, path, separator: ',', header: true, cultureInfo: CultureInfo.InvariantCulture);
    }
}
