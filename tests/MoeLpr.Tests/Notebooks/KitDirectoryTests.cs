using MoeLpr.Notebooks;

namespace MoeLpr.Tests.Notebooks;

public class KitDirectoryTests
{
    [Fact]
    public void FindsTheNearestFolderWithTheRegistryAndNotebooks()
    {
        var root = Directory.CreateTempSubdirectory("moelpr-kitdir-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "data"));
        Directory.CreateDirectory(Path.Combine(root, "notebooks"));
        File.WriteAllText(Path.Combine(root, "data", "dataset_info.json"), "{}");
        var deep = Directory.CreateDirectory(Path.Combine(root, "notebooks", "executed", "x")).FullName;

        Assert.Equal(root, KitDirectory.FindFrom(deep));
        Assert.Null(KitDirectory.FindFrom(Path.Combine(root, "..")));
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void TheTestsRunInsideTheCheckout()
    {
        Assert.True(File.Exists(KitDirectory.Path("notebooks/00-quick-tour.ipynb")));
        Assert.True(File.Exists(Path.Combine(KitDirectory.Root, "data", "dataset_info.json")));
    }
}
