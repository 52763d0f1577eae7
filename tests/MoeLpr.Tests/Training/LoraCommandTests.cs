using System.Text.Json.Nodes;
using MoeLpr.Checkpoints;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;

namespace MoeLpr.Tests.Training;

/// <summary>
/// <c>train --stage lora</c> writes PEFT's LoRA layout; <c>eval</c>, <c>tasks</c> and the notebooks' loader take
/// it as they take an MoE adapter (by the adapter's <c>peft_type</c>); <c>routes</c> says why it cannot.
/// </summary>
public class LoraCommandTests
{
    static string[] TrainLora(TinyTrainingWorkspace ws, string output, params string[] more) =>
    [
        "train", "--stage", "lora", "--model", ws.ModelDir, "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
        "--output", output, "--cutoff_len", "32", "--per_device_train_batch_size", "2", "--max-steps", "3",
        "--learning_rate", "0.01", "--device", "cpu", "--threads", "1", .. more,
    ];

    static string[] Eval(TinyTrainingWorkspace ws, params string[] model) =>
    [
        "eval", .. model, "--dataset", "old_text,new_text", "--dataset-info", ws.DatasetInfo, "--cutoff-len", "32",
        "--device", "cpu", "--threads", "1",
    ];

    [Fact]
    public void LoraRunTrainedByTheCli_IsAPeftLoraAdapterThatEvalLoads()
    {
        using var ws = new TinyTrainingWorkspace();
        string output = ws.Output("lora");

        var train = CliRunner.Run(TrainLora(ws, output, "--lora_rank", "4", "--lora_alpha", "8",
                                            "--lora_dropout", "0.1", "--lora_target", "q_proj,v_proj"));

        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("lora: ", train.Output);
        string configPath = Path.Combine(output, PeftAdapterFiles.ConfigFileName);
        DeclaredConfigTypes.AssertFollows(configPath, DeclaredConfigTypes.PeftLora);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal(4, config["r"]!.GetValue<int>());
        Assert.Equal(8, config["lora_alpha"]!.GetValue<int>());
        Assert.Equal(0.1, config["lora_dropout"]!.GetValue<double>());
        Assert.Equal(["q_proj", "v_proj"], config["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(Path.GetFullPath(ws.ModelDir), config["base_model_name_or_path"]!.GetValue<string>());
        var keys = SafeTensors.ReadHeader(Path.Combine(output, PeftAdapterFiles.WeightsFileName)).Entries.Keys
                              .Order(StringComparer.Ordinal).ToList();
        var expected = from layer in Enumerable.Range(0, ws.Config.NumHiddenLayers)
                       from module in new[] { "q_proj", "v_proj" }
                       from matrix in new[] { "lora_A", "lora_B" }
                       select $"base_model.model.model.layers.{layer}.self_attn.{module}.{matrix}.weight";
        Assert.Equal(expected.Order(StringComparer.Ordinal), keys);
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")), "the run folder carries the tokenizer");
        Assert.Equal(3, MetricsFile.Read(Path.Combine(output, MetricsFile.FileName)).Last().Step);

        var baseEval = CliRunner.Run(Eval(ws, "--model", ws.ModelDir));
        var loraEval = CliRunner.Run(Eval(ws, "--model", ws.ModelDir, "--adapter", output));
        Assert.True(loraEval.ExitCode == 0, loraEval.Error);
        Assert.Contains("new_text", loraEval.Output);
        Assert.NotEqual(baseEval.Output, loraEval.Output);

        var (model, moe) = ModelWithAdapter.Load(ws.ModelDir, output, null);
        using (model)
        {
            Assert.Null(moe);
            Assert.Contains("model.layers.1.self_attn.v_proj.lora_B.weight", model.state_dict().Keys);
        }
        var loaded = ModelWithAdapter.Load(ws.ModelDir, output, null);
        using (loaded.Model) Assert.Equal((AdapterKind.Lora, 4), (loaded.Kind, loaded.Lora!.Rank));
    }

    [Fact]
    public void TasksTakeALoraAdapter_RoutesAndStageTwoSayWhyNot()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("lora");
        Assert.Equal(0, CliRunner.Run(TrainLora(ws, output)).ExitCode);
        string taskFile = ws.Output("task.jsonl");
        File.WriteAllLines(taskFile,
        [
            """{"language": "new", "context": "zu xe", "choices": [" qo", " ka"], "gold": 0}""",
            """{"language": "old", "context": "ka to", "choices": [" mi", " zu"], "gold": 0}""",
        ]);

        var tasks = CliRunner.Run("tasks", "--model", ws.ModelDir, "--adapter", output, "--task", taskFile,
                                  "--output", ws.Output("tasks.csv"), "--device", "cpu");
        Assert.True(tasks.ExitCode == 0, tasks.Error);
        Assert.Contains("acc_norm", tasks.Output);

        var routes = CliRunner.Run("routes", "--model", ws.ModelDir, "--adapter", output, "--dataset", "new_text",
                                   "--dataset-info", ws.DatasetInfo, "--cutoff-len", "32", "--output", ws.Output("r"));
        Assert.Equal(1, routes.ExitCode);
        Assert.Equal($"error: {output}: a LoRA adapter has no router; routing statistics need an MoE adapter " +
                     "(peft_type MOE) or a Mixtral folder", routes.Error.TrimEnd());

        var stage2 = CliRunner.Run("train", "--stage", "2", "--model", ws.ModelDir, "--adapter", output,
                                   "--dataset", "new_text,old_text", "--dataset-info", ws.DatasetInfo,
                                   "--output", ws.Output("s2"), "--cutoff-len", "32", "--device", "cpu");
        Assert.Equal(1, stage2.ExitCode);
        Assert.Equal($"error: {Path.Combine(output, PeftAdapterFiles.ConfigFileName)}: peft_type is 'LORA'; " +
                     "stages 1 and 2 continue an MoE adapter (peft_type 'MOE')", stage2.Error.TrimEnd());

        File.WriteAllText(Path.Combine(output, PeftAdapterFiles.ConfigFileName), """{"peft_type": "IA3"}""");
        var unknown = CliRunner.Run(Eval(ws, "--model", ws.ModelDir, "--adapter", output));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal($"error: {Path.Combine(output, PeftAdapterFiles.ConfigFileName)}: peft_type is 'IA3', " +
                     "expected 'MOE' or 'LORA'", unknown.Error.TrimEnd());

        // Valid JSON, but not an object: said as such, not as a missing peft_type.
        File.WriteAllText(Path.Combine(output, PeftAdapterFiles.ConfigFileName), "[]");
        var array = CliRunner.Run(Eval(ws, "--model", ws.ModelDir, "--adapter", output));
        Assert.Equal((1, $"error: {Path.Combine(output, PeftAdapterFiles.ConfigFileName)}: adapter_config.json is " +
                         "not a JSON object"), (array.ExitCode, array.Error.TrimEnd()));
    }

    [Fact]
    public void BadLoraOptionsAreOneLineErrors()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);

        var dropout = CliRunner.Run(TrainLora(ws, ws.Output("a"), "--lora-dropout", "1.5"));
        Assert.Equal(1, dropout.ExitCode);
        Assert.Equal("error: LoRA options: lora_dropout must be in [0, 1) (got 1.5)", dropout.Error.TrimEnd());

        var target = CliRunner.Run(TrainLora(ws, ws.Output("b"), "--lora-target", "q_proj,wq"));
        Assert.Equal(1, target.ExitCode);
        Assert.StartsWith("error: LoRA options: target module 'wq' is not one of q_proj, k_proj", target.Error);

        var adapter = CliRunner.Run(TrainLora(ws, ws.Output("c"), "--adapter", ws.ModelDir));
        Assert.Equal(1, adapter.ExitCode);
        Assert.Equal("error: LoRA training starts from the dense model; --adapter does not apply",
                     adapter.Error.TrimEnd());
        Assert.False(Directory.Exists(ws.Output("a")));
    }
}
