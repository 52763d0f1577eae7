using System.Text.Json.Nodes;
using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Checkpoints;

public class HfModelDirectoryTests
{
    [Theory]
    [InlineData(ScalarType.Float32, "float32")]
    [InlineData(ScalarType.Float16, "float16")]
    [InlineData(ScalarType.BFloat16, "bfloat16")]
    public void LoadSaveLoadIsBitIdentical(ScalarType dtype, string torchDtype)
    {
        using var root = new TempDirectory();
        string first = Path.Combine(root.Path, "first"), second = Path.Combine(root.Path, "second");
        using var original = TinyCheckpoints.SaveDense(first, TinyModels.Llama, seed: 3, dtype: dtype);

        using var loaded = HfModelDirectory.Load(first);
        Assert.Equal(dtype, loaded.DType);
        Assert.Equal(torchDtype, loaded.Config.TorchDtype);
        TinyCheckpoints.AssertSameWeights(original, loaded);

        HfModelDirectory.Save(loaded, second);
        Assert.Equal(TinyCheckpoints.Files(first), TinyCheckpoints.Files(second));
        using var reloaded = HfModelDirectory.Load(second);
        TinyCheckpoints.AssertSameWeights(original, reloaded);
    }

    [Fact]
    public void ShardedLoadSaveLoadIsBitIdentical()
    {
        using var root = new TempDirectory();
        string first = Path.Combine(root.Path, "first"), second = Path.Combine(root.Path, "second");
        using var original = TinyCheckpoints.SaveDense(first, TinyModels.Llama, seed: 4, maxShardBytes: 16_000);
        var shards = Directory.GetFiles(first, "model-*-of-*.safetensors");
        Assert.True(shards.Length > 2, $"expected several shards, got {shards.Length}");
        Assert.False(File.Exists(Path.Combine(first, "model.safetensors")));

        using var loaded = HfModelDirectory.Load(first);
        TinyCheckpoints.AssertSameWeights(original, loaded);
        HfModelDirectory.Save(loaded, second, maxShardBytes: 16_000);
        Assert.Equal(TinyCheckpoints.Files(first), TinyCheckpoints.Files(second));
    }

    [Fact]
    public void LoadConvertsToTheRequestedDtype()
    {
        using var dir = new TempDirectory();
        using var original = TinyCheckpoints.SaveDense(dir.Path, TinyModels.Llama, seed: 5);

        using var bf16 = HfModelDirectory.Load(dir.Path, ScalarType.BFloat16);

        Assert.Equal(ScalarType.BFloat16, bf16.DType);
        var expected = original.state_dict();
        foreach (var (key, tensor) in bf16.state_dict())
        {
            Assert.Equal(ScalarType.BFloat16, tensor.dtype);
            Assert.True(tensor.IsExactly(expected[key].to_type(ScalarType.BFloat16)), key);
        }
    }

    [Fact]
    public void TiedEmbeddingsNeedNoLmHeadAndTolerateAStoredCopy()
    {
        using var dir = new TempDirectory();
        using var original = TinyCheckpoints.SaveDense(dir.Path, TinyModels.Qwen2, seed: 6);
        Assert.DoesNotContain("lm_head.weight",
            SafeTensors.ReadHeader(Path.Combine(dir.Path, "model.safetensors")).Entries.Keys);
        using (var loaded = HfModelDirectory.Load(dir.Path)) TinyCheckpoints.AssertSameWeights(original, loaded);

        // Some exporters also store the tied head; loading skips it.
        var weights = SafeTensors.Load(Path.Combine(dir.Path, "model.safetensors"));
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"];
        SafeTensors.Save(Path.Combine(dir.Path, "model.safetensors"), weights);
        using var withHead = HfModelDirectory.Load(dir.Path);
        TinyCheckpoints.AssertSameWeights(original, withHead);
    }

    [Fact]
    public void SavedConfigIsAHuggingFaceConfig()
    {
        using var dir = new TempDirectory();
        using var _ = TinyCheckpoints.SaveDense(dir.Path, TinyModels.Qwen2, dtype: ScalarType.BFloat16);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        Assert.Equal("qwen2", config["model_type"]!.GetValue<string>());
        Assert.Equal("Qwen2ForCausalLM", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal("bfloat16", config["torch_dtype"]!.GetValue<string>());
        Assert.True(config["tie_word_embeddings"]!.GetValue<bool>());
    }

    [Fact]
    public void SavingAnMoeModelAsDenseIsRefusedAndWritesNothing()
    {
        using var root = new TempDirectory();
        using var model = TinyModels.Create(TinyModels.Llama, seed: 1);
        MoeLpr.Upcycling.Upcycler.Upcycle(model, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 1);
        string output = Path.Combine(root.Path, "out");

        var error = Assert.Throws<InvalidOperationException>(() => HfModelDirectory.Save(model, output));
        Assert.Contains("MoeAdapter.Save", error.Message);
        Assert.False(Directory.Exists(output));
    }
}
