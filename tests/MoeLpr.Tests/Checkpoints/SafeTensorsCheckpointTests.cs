using System.Text.Json.Nodes;
using MoeLpr.Checkpoints;
using MoeLpr.Tests.TestSupport;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Checkpoints;

public class SafeTensorsCheckpointTests
{
    static List<KeyValuePair<string, Tensor>> Weights() =>
    [
        new("a", arange(10, dtype: ScalarType.Float32)),   // 40 bytes
        new("b", ones(6, dtype: ScalarType.Float32)),       // 24 bytes
        new("c", full(3, 2.0f, dtype: ScalarType.Float32)), // 12 bytes
    ];

    [Fact]
    public void ShardsFollowTheSizeLimitAndReopenThroughTheIndex()
    {
        using var dir = new TempDirectory();
        var written = SafeTensorsCheckpoint.Write(dir.Path, Weights(), maxShardBytes: 64);

        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
            "model.safetensors.index.json"], written);
        var index = JsonNode.Parse(File.ReadAllText(dir.File("model.safetensors.index.json")))!;
        Assert.Equal(76, index["metadata"]!["total_size"]!.GetValue<long>());
        Assert.Equal("model-00002-of-00002.safetensors", index["weight_map"]!["c"]!.GetValue<string>());

        var checkpoint = SafeTensorsCheckpoint.Open(dir.Path);
        Assert.Equal(dir.File("model.safetensors.index.json"), checkpoint.Source);
        Assert.Equal(["a", "b", "c"], checkpoint.Tensors.Keys.Order());
        Assert.Equal(dir.File("model-00001-of-00002.safetensors"), checkpoint.Tensors["b"].File.Path);
    }

    [Fact]
    public void EverythingFitsInOneFileWithoutIndex()
    {
        using var dir = new TempDirectory();
        Assert.Equal(["model.safetensors"], SafeTensorsCheckpoint.Write(dir.Path, Weights(), maxShardBytes: 1000));
        Assert.Equal(dir.File("model.safetensors"), SafeTensorsCheckpoint.Open(dir.Path).Source);
    }

    [Fact]
    public void MissingShardIsNamed()
    {
        using var dir = new TempDirectory();
        SafeTensorsCheckpoint.Write(dir.Path, Weights(), maxShardBytes: 64);
        File.Delete(dir.File("model-00002-of-00002.safetensors"));

        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsCheckpoint.Open(dir.Path));
        Assert.Equal($"{dir.File("model.safetensors.index.json")}: shard 'model-00002-of-00002.safetensors' listed " +
                     $"in weight_map is missing", error.Message);
    }

    [Fact]
    public void NoWeightsFileIsNamed()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsCheckpoint.Open(dir.Path));
        Assert.StartsWith(dir.File("model.safetensors") + ": not found", error.Message);
    }

    [Fact]
    public void StrictLoadCopiesAndConvertsDtype()
    {
        using var dir = new TempDirectory();
        SafeTensorsCheckpoint.Write(dir.Path, Weights(), maxShardBytes: 64);
        var targets = new Dictionary<string, Tensor>
        {
            ["a"] = zeros(10, dtype: ScalarType.BFloat16), ["b"] = zeros(6),
                ["c"] = zeros(3, dtype: ScalarType.Float64),
        };

        StateDictLoader.Load(targets, SafeTensorsCheckpoint.Open(dir.Path));

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i),
            targets["a"].to_type(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, targets["a"].dtype);
        Assert.Equal([1f, 1, 1, 1, 1, 1], targets["b"].data<float>().ToArray());
        Assert.Equal([2.0, 2, 2], targets["c"].data<double>().ToArray());
    }

    [Fact]
    public void StrictLoadNamesMissingUnexpectedAndMisshapenKeys()
    {
        using var dir = new TempDirectory();
        SafeTensorsCheckpoint.Write(dir.Path, Weights());
        var checkpoint = SafeTensorsCheckpoint.Open(dir.Path);
        string file = dir.File("model.safetensors");

        var missing = Assert.Throws<InvalidDataException>(() => StateDictLoader.Load(
            new Dictionary<string, Tensor>
            {
                ["a"] = zeros(10), ["b"] = zeros(6), ["c"] = zeros(3), ["d"] = zeros(1),
            }, checkpoint));
        Assert.Equal($"{file}: missing keys 'd'", missing.Message);

        var unexpected = Assert.Throws<InvalidDataException>(() => StateDictLoader.Load(
            new Dictionary<string, Tensor> { ["a"] = zeros(10), ["b"] = zeros(6) }, checkpoint));
        Assert.Equal($"{file}: unexpected keys 'c'", unexpected.Message);

        var target = zeros(2, 5);
        var shape = Assert.Throws<InvalidDataException>(() => StateDictLoader.Load(
            new Dictionary<string, Tensor> { ["a"] = target, ["b"] = zeros(6), ["c"] = zeros(3) }, checkpoint));
        Assert.Equal($"{file}: tensor 'a' has shape [10] but the config implies [2, 5]", shape.Message);
        Assert.Equal(0f, target.abs().sum().item<float>());

        StateDictLoader.Load(new Dictionary<string, Tensor> { ["a"] = zeros(10), ["b"] = zeros(6) }, checkpoint,
            ignored: new HashSet<string> { "c" });
    }

    [Fact]
    public void AtomicDirectoryLeavesTargetUntouchedOnFailure()
    {
        using var root = new TempDirectory();
        string target = Path.Combine(root.Path, "out");

        Assert.Throws<InvalidOperationException>(() => AtomicDirectory.Write(target, staging =>
        {
            File.WriteAllText(Path.Combine(staging, "partial.txt"), "x");
            throw new InvalidOperationException("boom");
        }));

        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.GetFileSystemEntries(root.Path));
    }

    [Fact]
    public void AtomicDirectoryReplacesStaleWeightFiles()
    {
        using var root = new TempDirectory();
        string target = Path.Combine(root.Path, "out");
        AtomicDirectory.Write(target, staging => SafeTensorsCheckpoint.Write(staging, Weights(), maxShardBytes: 64),
            "model*.safetensors*");
        File.WriteAllText(Path.Combine(target, "README.md"), "kept");

        AtomicDirectory.Write(target, staging => SafeTensorsCheckpoint.Write(staging, Weights()),
            "model*.safetensors*");

        Assert.Equal(["README.md", "model.safetensors"], Directory.GetFiles(target).Select(Path.GetFileName).Order());
        Assert.Single(Directory.GetFileSystemEntries(root.Path));
    }
}
