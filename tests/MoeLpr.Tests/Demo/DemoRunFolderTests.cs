using MoeLpr.Demo;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Demo;

/// <summary>
/// The demo starts each training run in a fresh folder under its --output, deleting a previous demo run there; a
/// folder that is not a training run (a user's own <c>runs/full_ft</c> under a reused --output) is left alone.
/// </summary>
public class DemoRunFolderTests
{
    [Fact]
    public void APreviousRunIsCleared_AFolderThatIsNotARunIsRefusedAndKept()
    {
        using var temp = new TempDirectory();
        string previous = Directory.CreateDirectory(temp.File("runs/lora")).FullName;
        File.WriteAllText(Path.Combine(previous, MetricsFile.FileName), "{}\n");
        File.WriteAllText(Path.Combine(previous, "adapter_model.safetensors"), "old weights");
        DemoTrainer.ClearRunDir(previous);
        Assert.False(Directory.Exists(previous));

        string empty = Directory.CreateDirectory(temp.File("runs/moe_lpr")).FullName;
        DemoTrainer.ClearRunDir(empty);
        Assert.False(Directory.Exists(empty));

        string users = Directory.CreateDirectory(temp.File("runs/full_ft")).FullName;
        File.WriteAllText(Path.Combine(users, "precious.txt"), "mine");
        var error = Assert.Throws<IOException>(() => DemoTrainer.ClearRunDir(users));
        Assert.StartsWith($"{users}: holds files that are not a training run of the demo", error.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(users, "precious.txt")));
    }
}
