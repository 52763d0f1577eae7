namespace MoeLpr.Notebooks;

/// <summary>
/// Finds the kit's checkout (the folder holding <c>data/dataset_info.json</c> and <c>notebooks/</c>) so that a
/// notebook can name the shipped files the same way wherever it runs: Jupyter starts it in <c>notebooks/</c>,
/// <c>moelpr notebook run</c> in the caller's folder, the tests in their build output.
/// </summary>
public static class KitDirectory
{
    const string Marker = "data/dataset_info.json";

    /// <summary>The checkout root: the nearest folder containing <c>data/dataset_info.json</c>, searched upwards from
    /// the current directory, then from the folder of the MoeLpr assembly.</summary>
    public static string Root => FindFrom(Environment.CurrentDirectory) ?? FindFrom(AppContext.BaseDirectory)
        ?? throw new DirectoryNotFoundException($"no folder with {Marker} above {Environment.CurrentDirectory} or " +
                                                $"{AppContext.BaseDirectory}; run from inside the MoeLpr checkout");

    /// <summary>A path inside the checkout, e.g. <c>KitDirectory.Path("data/base-model")</c>.</summary>
    public static string Path(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, relative));

    /// <summary>The nearest folder at or above <paramref name="start"/> that holds the marker file, or null.</summary>
    public static string? FindFrom(string start)
    {
        for (var dir = new DirectoryInfo(System.IO.Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, Marker)) &&
                Directory.Exists(System.IO.Path.Combine(dir.FullName, "notebooks")))
                return dir.FullName;
        return null;
    }
}
