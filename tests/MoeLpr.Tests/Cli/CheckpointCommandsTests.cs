using System.Text.Json.Nodes;
using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Cli;

/// <summary>The upcycle and export commands end to end, and how every malformed checkpoint is reported.</summary>
public class CheckpointCommandsTests
{
    static Tensor LogitsOf(LlamaForCausalLM model)
    {
        using var _ = no_grad();
        using var ids = TinyModels.RandomIds(model.Config, 2, 9, seed: 31);
        return model.forward(new CausalLMInput(ids)).Logits;
    }

    [Fact]
    public void UpcycledAdapterReloadsToTheSameLogits()
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), adapterDir = Path.Combine(root.Path, "adapter");
        using (TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama, seed: 5)) { }

        var result = CliRunner.Run("upcycle", "--model", baseDir, "--output", adapterDir, "--moe_num_experts", "3",
            "--topk", "2", "--seed", "7");
        Assert.True(result.ExitCode == 0, result.Error);

        using var inProcess = HfModelDirectory.Load(baseDir);
        Upcycler.Upcycle(inProcess, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 7);
        using var reloaded = HfModelDirectory.Load(baseDir);
        var config = MoeAdapter.Load(reloaded, adapterDir);
        Assert.Equal((3, 2), (config.NumExperts, config.TopK));
        Assert.Equal(Path.GetFullPath(baseDir), config.BaseModelNameOrPath);
        Assert.True(LogitsOf(inProcess).IsExactly(LogitsOf(reloaded)));
    }

    [Fact]
    public void UpcycleHonoursLayersAndRejectsAnUnknownOne()
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), adapterDir = Path.Combine(root.Path, "adapter");
        using (TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama)) { }

        Assert.Equal(0, CliRunner.Run("upcycle", "--model", baseDir, "--output", adapterDir, "--num-experts", "2",
            "--layers", "1").ExitCode);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(adapterDir, "adapter_config.json")))!;
        Assert.Equal([1], config["layers_to_transform"]!.AsArray().Select(n => n!.GetValue<int>()));

        string other = Path.Combine(root.Path, "other");
        var bad = CliRunner.Run("upcycle", "--model", baseDir, "--output", other, "--layers", "0,9");
        Assert.Equal((1, $"error: --layers: 9 is not a layer of {baseDir} (0..1)"), (bad.ExitCode, bad.Error.Trim()));
        Assert.False(Directory.Exists(other));

        // An existing adapter is not replaced by a fresh one, as export and tokenizer train refuse a used folder.
        var again = CliRunner.Run("upcycle", "--model", baseDir, "--output", adapterDir, "--num-experts", "3");
        Assert.Equal(
            (1, $"error: {adapterDir}: the output folder is not empty; choose a new one (nothing was written)"),
            (again.ExitCode, again.Error.Trim()));
        Assert.Equal([1], JsonNode.Parse(File.ReadAllText(Path.Combine(adapterDir, "adapter_config.json")))!
            ["layers_to_transform"]!.AsArray().Select(n => n!.GetValue<int>()));
    }

    [Fact]
    public void ExportedMixtralReloadsToTheAdapterModelsLogits()
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), adapterDir = Path.Combine(root.Path, "adapter"),
            mixtralDir = Path.Combine(root.Path, "mixtral");
        using (TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama, seed: 6)) { }
        Assert.Equal(0, CliRunner.Run("upcycle", "--model", baseDir, "--output", adapterDir, "--num-experts", "4",
            "--seed", "1").ExitCode);

        var result = CliRunner.Run("export", "--model", baseDir, "--adapter", adapterDir, "--output", mixtralDir);
        Assert.True(result.ExitCode == 0, result.Error);

        using var withAdapter = HfModelDirectory.Load(baseDir);
        MoeAdapter.Load(withAdapter, adapterDir);
        using var mixtral = MixtralImporter.Load(mixtralDir);
        Assert.True(LogitsOf(withAdapter).IsExactly(LogitsOf(mixtral)));
    }

    [Fact]
    public void ExportOfAQwen2BaseIsAOneLineError()
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), adapterDir = Path.Combine(root.Path, "adapter"),
            output = Path.Combine(root.Path, "mixtral");
        using (TinyCheckpoints.SaveDense(baseDir, TinyModels.Qwen2)) { }
        Assert.Equal(0, CliRunner.Run("upcycle", "--model", baseDir, "--output", adapterDir).ExitCode);

        var result = CliRunner.Run("export", "--model", baseDir, "--adapter", adapterDir, "--output", output);

        Assert.Equal((1, $"error: {Path.Combine(baseDir, "config.json")}: a qwen2 base cannot become Mixtral: " +
                         "Mixtral has no q/k/v bias, so only the adapter layout (MoeAdapter) applies\n"),
            (result.ExitCode, result.Error));
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void ExportOfAnAdapterMixtralCannotExpressNamesTheAdaptersConfig()
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), output = Path.Combine(root.Path, "mixtral");
        using (TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama)) { }
        foreach (var (name, shape, message) in new[]
        {
            ("top1", new[] { "--topk", "1" }, "with top-1 MoE-LPR scales the expert output by its probability"),
            ("partial", ["--layers", "1"], "layers_to_transform leaves layer 0 dense"),
        })
        {
            string adapterDir = Path.Combine(root.Path, name);
            var upcycle = CliRunner.Run(["upcycle", "--model", baseDir, "--output", adapterDir, .. shape]);
            Assert.True(upcycle.ExitCode == 0, upcycle.Error);

            var result = CliRunner.Run("export", "--model", baseDir, "--adapter", adapterDir, "--output", output);

            Assert.Equal(1, result.ExitCode);
            Assert.StartsWith($"error: {Path.Combine(adapterDir, "adapter_config.json")}: {message}", result.Error);
            Assert.False(Directory.Exists(output));
        }
    }

    /// <summary>
    /// Kinds of malformed base checkpoint; <see cref="Break"/> applies one and returns the file and words the error
    /// must carry.
    /// </summary>
    public static TheoryData<string> MalformedCases => new()
    {
        "missing config field", "config field of the wrong type", "no key-value heads", "odd head_dim",
        "rope_theta of 0", "Llama 3.1's rope_scaling", "unsupported model_type", "wrong weight shape", "missing key",
        "corrupt safetensors header", "missing shard", "unsupported torch_dtype",
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void MalformedCheckpointGivesOneLineNamingTheFileAndWritesNothing(string kind)
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), output = Path.Combine(root.Path, "adapter");
        using (TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama,
            maxShardBytes: kind == "missing shard" ? 20_000 : null)) { }
        var (file, message) = Break(baseDir, kind);

        var result = CliRunner.Run("upcycle", "--model", baseDir, "--output", output, "--num-experts", "3");

        Assert.Equal(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith($"error: {file}: ", lines[0]);
        Assert.Contains(message, lines[0]);
        Assert.False(Directory.Exists(output));
        Assert.Single(Directory.GetFileSystemEntries(root.Path));
    }

    static (string File, string Message) Break(string dir, string kind)
    {
        string config = Path.Combine(dir, "config.json"), weights = Path.Combine(dir, "model.safetensors");
        switch (kind)
        {
            case "missing config field":
                EditConfig(config, json => json.Remove("hidden_size"));
                return (config, "missing field 'hidden_size'");
            case "config field of the wrong type":
                EditConfig(config, json => json["hidden_size"] = "32");
                return (config, "field 'hidden_size' must be a positive integer, not \"32\"");
            case "no key-value heads":
                EditConfig(config, json => json["num_key_value_heads"] = 0);
                return (config, "num_key_value_heads must be at least 1 (got 0)");
            case "odd head_dim":
                EditConfig(config, json => json["head_dim"] = 7);
                return (config, "(head_dim, else hidden_size / num_attention_heads) must be a positive even number");
            case "rope_theta of 0":
                EditConfig(config, json => json["rope_theta"] = 0);
                return (config, "rope_theta must be a positive number (got 0)");
            case "Llama 3.1's rope_scaling":
                EditConfig(config, json => json["rope_scaling"] = JsonNode.Parse(
                    "{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, " +
                    "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}"));
                return (config, "rope_scaling.rope_type 'llama3' is not supported (only 'default')");
            case "unsupported model_type":
                EditConfig(config, json => json["model_type"] = "gpt2");
                return (config, "unsupported model_type 'gpt2'");
            case "wrong weight shape":
                EditWeights(weights, w => w["model.layers.1.mlp.up_proj.weight"] = zeros(40, 32));
                return (weights,
                    "tensor 'model.layers.1.mlp.up_proj.weight' has shape [40, 32] but the config implies [48, 32]");
            case "missing key":
                EditWeights(weights, w => w.Remove("model.norm.weight"));
                return (weights, "missing keys 'model.norm.weight'");
            case "corrupt safetensors header":
                var bytes = File.ReadAllBytes(weights);
                bytes[8] = (byte)'#'; // the header's opening brace
                File.WriteAllBytes(weights, bytes);
                return (weights, "header is not valid JSON");
            case "missing shard":
                File.Delete(Directory.GetFiles(dir, "model-*-of-*.safetensors").Order().Last());
                return (Path.Combine(dir, "model.safetensors.index.json"), "listed in weight_map is missing");
            case "unsupported torch_dtype":
                EditConfig(config, json => json["torch_dtype"] = "int8");
                return (config, "unsupported torch_dtype 'int8' (supported: float32, float16, bfloat16, float64)");
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    static void EditConfig(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    static void EditWeights(string path, Action<Dictionary<string, Tensor>> edit)
    {
        var weights = SafeTensors.Load(path);
        edit(weights);
        SafeTensors.Save(path, weights);
    }
}
