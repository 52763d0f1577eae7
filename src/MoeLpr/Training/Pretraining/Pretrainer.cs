using System.Diagnostics;
using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Devices;
using MoeLpr.Model;
using MoeLpr.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Training.Pretraining;

/// <summary>How a pretraining run ended: the trainer's result, the model size, tokens seen and wall time.</summary>
public sealed record PretrainingResult(TrainingResult Training, long Parameters, long TokensSeen, TimeSpan WallTime);

/// <summary>
/// Pretrains a dense LLaMA from scratch: builds the config from the options and the tokenizer (vocab size, EOS),
/// initialises every weight as HF does (normal(0, initializer_range), RMSNorm weights 1), trains with the shared
/// <see cref="Trainer"/> and <see cref="FullFineTunePolicy"/>, then writes the HF folder with the tokenizer files and a
/// model card stating the data, steps, tokens, seed, losses and wall time.
/// </summary>
public static class Pretrainer
{
    public static PretrainingResult Run(PretrainingOptions options, TextWriter? console = null,
        CancellationToken cancellation = default)
    {
        console ??= Console.Out;
        if (options.Datasets.Count == 0) throw new ArgumentException("no dataset given (--dataset a,b,c)");
        var clock = Stopwatch.StartNew();
        AtomicDirectory.RequireNewOrEmpty(options.OutputDir);   // e.g. not a downloaded model's folder
        using var runLock = RunLock.Acquire(options.OutputDir);
        var setup = RunSetup.Start(options, options.TokenizerDir);
        var tokenizer = setup.Tokenizer;
        var corpus = setup.Pack(setup.Load(options, requireLanguage: false), options, requireLanguage: false);
        foreach (var d in corpus.Datasets)
            console.WriteLine($"dataset {d.Name}: {d.Documents} documents, {d.Tokens} tokens, {d.Blocks} blocks");

        var config = CreateConfig(options, VocabularySize(tokenizer), tokenizer.EosId);
        long seed = options.Optimization.Seed;
        torch.manual_seed(seed);
        using var model = new LlamaForCausalLM(config);
        Initialise(model, options.InitializerRange, seed);
        long parameters = model.parameters().Sum(p => p.numel());
        console.WriteLine($"model: {parameters:N0} parameters (hidden {config.HiddenSize}, " +
                          $"{config.NumHiddenLayers} layers, vocab {config.VocabSize})");

        var trainerOptions = options.Optimization with
        {
            MaskedLabelTokenId = options.MaskEosInLabels ? tokenizer.EosId : null, Device = setup.Device,
        };
        var result = new Trainer(model, new FullFineTunePolicy(), corpus, trainerOptions, options.OutputDir, console)
            .Train(cancellation: cancellation);
        if (!result.Completed) return new PretrainingResult(result, parameters, 0, clock.Elapsed);

        TokenizerLoader.CopyFiles(options.TokenizerDir, options.OutputDir);
        // An epoch's last micro-batch may be short: count the blocks the plan gave, not steps × batch.
        long tokensSeen = (long)new BatchPlan(corpus.Count, trainerOptions).BlocksOfFirstSteps(result.GlobalStep)
            .Count() * options.CutoffLen;
        var summary = new PretrainingResult(result, parameters, tokensSeen, clock.Elapsed);
        var metrics = MetricsFile.Read(Path.Combine(options.OutputDir, MetricsFile.FileName));
        File.WriteAllText(Path.Combine(options.OutputDir, "README.md"),
            ModelCard.Write(options, config, corpus, summary, metrics, setup.Device));
        console.WriteLine(
            $"pretrained in {clock.Elapsed:mm\\:ss}: {tokensSeen:N0} tokens seen → {options.OutputDir}");
        return summary;
    }

    /// <summary>The smallest vocabulary that holds every id the tokenizer can produce (specials included).</summary>
    static int VocabularySize(LoadedTokenizer tokenizer) => tokenizer.Tokenizer switch
    {
        Microsoft.ML.Tokenizers.BpeTokenizer bpe =>
            Math.Max(bpe.Vocabulary.Values.Max(), bpe.SpecialTokens?.Values.DefaultIfEmpty(0).Max() ?? 0) + 1,
        _ => throw new InvalidDataException(
            "pretraining needs a byte-level BPE tokenizer.json (the kit's own, from 'moelpr tokenizer train')"),
    };

    public static ModelConfig CreateConfig(PretrainingOptions options, int vocabSize, int eosId)
    {
        var config = new ModelConfig
        {
            ModelType = "llama",
            Architectures = ["LlamaForCausalLM"],
            VocabSize = vocabSize,
            HiddenSize = options.HiddenSize,
            IntermediateSize = options.IntermediateSize,
            NumHiddenLayers = options.NumLayers,
            NumAttentionHeads = options.NumAttentionHeads,
            NumKeyValueHeads = options.NumKeyValueHeads,
            MaxPositionEmbeddings = Math.Max(2048, options.CutoffLen),
            RmsNormEps = 1e-6,
            TieWordEmbeddings = options.TieWordEmbeddings,
            EosTokenId = eosId,
            PadTokenId = eosId,
        };
        config.Validate("pretraining options");
        return config;
    }

    /// <summary>HF's <c>_init_weights</c> for LLaMA: linear and embedding weights ~ N(0, σ²), biases 0, norms 1
    /// (already so), drawn in state-dict order from one seeded generator.</summary>
    public static void Initialise(LlamaForCausalLM model, double std, long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) continue;
            if (name.EndsWith(".bias", StringComparison.Ordinal)) { parameter.zero_(); continue; }
            parameter.normal_(0, std, generator);
        }
    }
}
