using System.Runtime.CompilerServices;

namespace MoeLpr.Tests.Notebooks;

/// <summary>
/// Paths of the notebooks under Notebooks/TestData, found from this source file so no copy step is needed.
/// </summary>
static class TestNotebooks
{
    public static string Path(string name, [CallerFilePath] string thisFile = "") =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(thisFile)!, "TestData", name);

    public static string TempFolder() => Directory.CreateTempSubdirectory("moelpr-notebook-").FullName;
}
