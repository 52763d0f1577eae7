namespace MoeLpr.Tests.Data;

/// <summary>Paths of the shipped data and throw-away temp folders for the Data tests.</summary>
internal static class DataTestFiles
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string DatasetInfo => Path.Combine(RepoRoot, "data", "dataset_info.json");

    public static string NewTempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "moelpr-data-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MoeLpr.sln"))) return dir.FullName;
        throw new InvalidOperationException("MoeLpr.sln not found above the test binaries");
    }
}
