using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Tests.Training;
using MoeLpr.Training;
using MoeLpr.Training.Pretraining;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Checkpoints;

/// <summary>
/// Every config file the kit writes has the fields and JSON types the Python classes that read it declare
/// (<see cref="DeclaredConfigTypes"/>): HF model folders, the Mixtral export, MoE and LoRA adapters.
/// </summary>
public class ConfigFieldTypesTests
{
    /// <summary>Every optional field the kit knows set, so each one is written and checked.</summary>
    static ModelConfig Full(ModelConfig config) => config with
    {
        Architectures = null, BosTokenId = 1, EosTokenId = 2, PadTokenId = 2, MaxPositionEmbeddings = 4096,
    };

    public static TheoryData<string, ScalarType> DenseCases => new()
    {
        { "llama", ScalarType.Float32 }, { "llama", ScalarType.BFloat16 }, { "mistral", ScalarType.Float32 },
        { "qwen2", ScalarType.Float16 },
    };

    [Theory]
    [MemberData(nameof(DenseCases))]
    public void HfModelFolderConfig_HasTheTypesItsConfigClassDeclares(string modelType, ScalarType dtype)
    {
        using var dir = new TempDirectory();
        var config = Full(modelType == "qwen2" ? TinyModels.Qwen2 : TinyModels.Llama with { ModelType = modelType });
        using (TinyCheckpoints.SaveDense(dir.Path, config with { RopeTheta = 10000 }, dtype: dtype)) { }

        DeclaredConfigTypes.AssertFollows(dir.File("config.json"), DeclaredConfigTypes.ForModelType(modelType));
        string text = File.ReadAllText(dir.File("config.json"));
        Assert.Contains("\"rope_theta\": 10000.0", text);
        Assert.Contains("\"rms_norm_eps\": 1E-06", text);
        Assert.Contains("\"vocab_size\": ", text);
        using var reloaded = HfModelDirectory.Load(dir.Path);
        Assert.Equal(10000.0, reloaded.Config.RopeTheta);
    }

    [Fact]
    public void PretrainedModelConfig_HasLlamaConfigTypes()
    {
        using var dir = new TempDirectory();
        var options = new PretrainingOptions { TokenizerDir = dir.Path, Datasets = ["x"], OutputDir = dir.Path,
                                               HiddenSize = 24, NumAttentionHeads = 4, NumKeyValueHeads = 2 };
        var config = Pretrainer.CreateConfig(options, vocabSize: 50, eosId: 3);
        using (var model = new LlamaForCausalLM(config)) HfModelDirectory.Save(model, dir.Path);

        DeclaredConfigTypes.AssertFollows(dir.File("config.json"), DeclaredConfigTypes.Llama);
    }

    [Theory]
    [InlineData(null, "0.0")]
    [InlineData(0.01, "0.01")]
    public void MixtralExportConfig_HasMixtralConfigTypes(double? auxLossCoef, string written)
    {
        using var dir = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2, AuxLossCoef = auxLossCoef };
        using var model = TinyModels.Create(Full(TinyModels.Llama), seed: 4);
        Upcycler.Upcycle(model, moe, seed: 4);

        MixtralExporter.Export(model, moe, dir.Path);

        DeclaredConfigTypes.AssertFollows(dir.File("config.json"), DeclaredConfigTypes.Mixtral);
        string text = File.ReadAllText(dir.File("config.json"));
        Assert.Contains($"\"router_aux_loss_coef\": {written}", text);
        Assert.Contains("\"router_jitter_noise\": 0.0", text);
        Assert.Contains("\"rope_theta\": 10000.0", text);
    }

    [Theory]
    [InlineData(0.01, null)]
    [InlineData(null, 0.1)]
    [InlineData(1.0, null)]
    public void MoeAdapterConfig_HasTheReferenceMoeConfigTypes(double? auxLossCoef, double? lprLossCoef)
    {
        using var dir = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2, AuxLossCoef = auxLossCoef, LprLossCoef = lprLossCoef };
        using var model = TinyModels.Create(TinyModels.Llama, seed: 5);
        Upcycler.Upcycle(model, moe, seed: 5);

        MoeAdapter.Save(model, moe, dir.Path);

        DeclaredConfigTypes.AssertFollows(dir.File("adapter_config.json"), DeclaredConfigTypes.ReferenceMoe);
        if (auxLossCoef == 1.0)
            Assert.Contains("\"aux_loss_coef\": 1.0", File.ReadAllText(dir.File("adapter_config.json")));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    public void LoraAdapterConfig_HasPeftLoraConfigTypes(double dropout)
    {
        using var dir = new TempDirectory();
        var lora = new LoraConfig { Rank = 2, Alpha = 4, Dropout = dropout, TargetModules = ["q_proj", "v_proj"] };
        using var model = TinyModels.Create(TinyModels.Llama, seed: 6);
        LoraInjector.Inject(model, lora, seed: 6);

        LoraAdapter.Save(model, lora, dir.Path);

        DeclaredConfigTypes.AssertFollows(dir.File("adapter_config.json"), DeclaredConfigTypes.PeftLora);
        string text = File.ReadAllText(dir.File("adapter_config.json"));
        Assert.Contains("\"lora_alpha\": 4,", text);
        Assert.Contains($"\"lora_dropout\": {(dropout == 0 ? "0.0" : "0.05")}", text);
    }

    [Fact]
    public void TrainingRunOutputs_HaveTheDeclaredTypes()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        DeclaredConfigTypes.AssertFollows(Path.Combine(ws.ModelDir, "config.json"), DeclaredConfigTypes.Llama);

        string full = ws.Output("full"), stage1 = ws.Output("stage1");
        TrainingRun.Run(ws.Options(TrainingStage.Full, full, "new_text"), TextWriter.Null);
        TrainingRun.Run(ws.Options(TrainingStage.Stage1, stage1, "new_text"), TextWriter.Null);

        DeclaredConfigTypes.AssertFollows(Path.Combine(full, "config.json"), DeclaredConfigTypes.Llama);
        DeclaredConfigTypes.AssertFollows(Path.Combine(stage1, "adapter_config.json"),
                                          DeclaredConfigTypes.ReferenceMoe);
    }
}
