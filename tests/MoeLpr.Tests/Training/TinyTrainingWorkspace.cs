using System.Text.Json;
using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using TorchSharp;

namespace MoeLpr.Tests.Training;

/// <summary>
/// A temp folder with everything a training run needs at toy size: two synthetic "languages" as JSONL datasets
/// (<c>old_text</c>, language old; <c>new_text</c>, language new) in a dataset_info.json, a byte-level BPE tokenizer
/// trained on them (≈300 tokens), and a seeded dense LLaMA (hidden 32, 2 layers) saved with that tokenizer.
/// </summary>
internal sealed class TinyTrainingWorkspace : IDisposable
{
    static readonly string[] OldSyllables = ["ka", "to", "mi", "ra", "ne", "so", "lu", "pe"];
    static readonly string[] NewSyllables = ["zu", "xe", "qo", "vy", "ju", "wi", "fa", "gh"];

    readonly TempDirectory temp = new();

    public string Root => temp.Path;
    public string ModelDir => temp.File("base");
    public string DatasetInfo => temp.File("dataset_info.json");
    public ModelConfig Config { get; }

    public TinyTrainingWorkspace(int documents = 40, long seed = 3)
    {
        var oldDocs = Documents(OldSyllables, documents, seed);
        var newDocs = Documents(NewSyllables, documents, seed + 1);
        WriteJsonl(temp.File("old.jsonl"), oldDocs);
        WriteJsonl(temp.File("new.jsonl"), newDocs);
        WriteDatasetInfo(DatasetInfo, ("old_text", "old.jsonl", "old"), ("new_text", "new.jsonl", "new"));

        var bpe = BpeTrainer.Train(oldDocs.Concat(newDocs), vocabSize: 300);
        bpe.Save(ModelDir);
        Config = new ModelConfig
        {
            ModelType = "llama", VocabSize = bpe.VocabSize, HiddenSize = 32, IntermediateSize = 48, NumHiddenLayers = 2,
            NumAttentionHeads = 4, NumKeyValueHeads = 2, RmsNormEps = 1e-6, EosTokenId = bpe.EndOfTextId,
        };
        using var model = NewModel(Config, seed);
        HfModelDirectory.Save(model, ModelDir);
    }

    /// <summary>
    /// A dense model with small seeded weights (std 0.05, norms 1), so a few steps of training move the loss.
    /// </summary>
    public static LlamaForCausalLM NewModel(ModelConfig config, long seed)
    {
        var model = new LlamaForCausalLM(config);
        using var generator = new torch.Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var (_, p) in model.named_parameters())
        {
            using var values = p.dim() == 1 ? torch.ones_like(p) : torch.randn(p.shape, generator: generator) * 0.05;
            p.copy_(values);
        }
        return model;
    }

    /// <summary>
    /// The optimiser settings of <see cref="Options"/>: four steps at a large learning rate, a metrics line each.
    /// </summary>
    public static readonly TrainerOptions FastOptimization = new()
    {
        BatchSize = 2, LearningRate = 1e-2, MaxSteps = 4, LoggingSteps = 1, Seed = 7,
    };

    /// <summary>Options for a short, fast, single-threaded CPU run writing to <paramref name="output"/>.</summary>
    public TrainingOptions Options(TrainingStage stage, string output, string datasets, string? adapter = null) => new()
    {
        Stage = stage, ModelDir = ModelDir, AdapterDir = adapter, Datasets = DatasetRegistry.ParseNames(datasets),
        DatasetInfo = DatasetInfo, OutputDir = output, CutoffLen = 32, Optimization = FastOptimization,
        NumExperts = 3, TopK = 2, Device = "cpu", Threads = 1,
    };

    public string Output(string name) => temp.File(name);

    static List<string> Documents(string[] syllables, int count, long seed)
    {
        var random = new Random((int)seed);
        return Enumerable.Range(0, count)
            .Select(_ => string.Join(' ', Enumerable.Range(0, random.Next(8, 20)).Select(_ =>
            string.Concat(Enumerable.Range(0, random.Next(1, 4))
                .Select(_ => syllables[random.Next(syllables.Length)]))))).ToList();
    }

    public static void WriteJsonl(string path, IEnumerable<string> documents) =>
        File.WriteAllLines(path, documents.Select(d => JsonSerializer.Serialize(new { text = d })));

    public static void WriteDatasetInfo(string path, params (string Name, string File, string Language)[] entries) =>
        File.WriteAllText(path,
            JsonSerializer.Serialize(entries.ToDictionary(e => e.Name, e => new Dictionary<string, object>
        {
            ["file_name"] = e.File, ["language"] = e.Language, ["columns"] = new Dictionary<string, string>
            {
                ["prompt"] = "text",
            },
        })));

    public void Dispose() => temp.Dispose();
}
