using System.Diagnostics;
using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Devices;
using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Runs;
using MoeLpr.Training;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Demo;

/// <summary>
/// The kit's small-scale MoE-LPR replication, end to end, from the shipped old-language base model:
/// evaluate the base; full fine-tuning and LoRA on the new-language data; upcycle and train stage 1 on the same
/// new-language blocks; stage 2 (routers only, LPR) on new-language pages plus a small old-language replay;
/// perplexity per language for every model, routing statistics and token traces for both MoE stages; then
/// results.csv, results.md, routing.csv, per-run metrics.jsonl and report.html in the output folder.
/// </summary>
public static class DemoPipeline
{
    public const string RunsFolder = "runs";

    public static DemoResult Run(DemoOptions options, TextWriter? console = null)
    {
        console ??= Console.Out;
        var size = options.Size;
        var clock = Stopwatch.StartNew();
        var phases = new List<DemoPhase>();
        using var runLock = RunLock.Acquire(options.OutputDir);
        var setup = RunSetup.Start(options, TokenizerLoader.FolderFor(null, options.BaseModelDir), options.DatasetInfo);
        var (device, tokenizer) = (setup.Device, setup.Tokenizer);
        int totalPhases = 7, phaseNumber = 0;
        T Phase<T>(string name, Func<T> body)
        {
            console.WriteLine($"== [{++phaseNumber}/{totalPhases}] {name}");
            var watch = Stopwatch.StartNew();
            var value = body();
            phases.Add(new DemoPhase(name, watch.Elapsed));
            console.WriteLine($"   {name}: {watch.Elapsed.TotalSeconds:0.0} s");
            return value;
        }

        var corpora = Phase("tokenise and pack data", () => DemoCorpora.Load(options, setup));
        long stage1Tokens = DemoTrainer.TokensSeen(corpora.Stage1, options, size.Stage1Steps).Tokens;
        var (stage2Tokens, stage2OldTokens) = DemoTrainer.TokensSeen(corpora.Stage2, options, size.Stage2Steps);
        console.WriteLine($"   stage 1 / baselines: {corpora.Stage1.Count} blocks, {stage1Tokens:N0} tokens trained; " +
                          $"stage 2: {corpora.Stage2.Count} blocks ({corpora.Stage2.OldLanguageTokens:N0} " +
                          $"old-language replay tokens = " +
                          $"{100.0 * corpora.Stage2.OldLanguageTokens / stage1Tokens:0.00} % of stage 1)");
        var trainer = new DemoTrainer(options, corpora, tokenizer, device, console);
        var variants = new List<DemoVariant>();
        var routing = new Dictionary<string, RoutingStatistics>();
        var traces = new Dictionary<string, TokenRoutingTrace>();
        var display = new TokenDisplay(tokenizer);

        variants.Add(Phase("evaluate the base model", () =>
        {
            using var model = LoadBase(options, device);
            return trainer.Evaluate("base", "Base (old languages only)", model, runDir: null, TimeSpan.Zero);
        }));
        variants.Add(Phase("baseline: full fine-tuning on new languages", () =>
        {
            using var model = LoadBase(options, device);
            return trainer.TrainAndEvaluate("full_ft", "Full fine-tuning", model, new FullFineTunePolicy(),
                corpora.Stage1, size.Stage1Steps, size.LearningRate);
        }));
        var lora = new LoraConfig
        {
            Rank = size.LoraRank, Alpha = size.LoraAlpha, BaseModelNameOrPath = Path.GetFullPath(options.BaseModelDir),
        };
        variants.Add(Phase("baseline: LoRA on new languages", () =>
        {
            using var model = LoadBase(options, device);
            return trainer.TrainAndEvaluate("lora", $"LoRA (r={lora.Rank})", model, new LoraPolicy(lora, options.Seed),
                                            corpora.Stage1, size.Stage1Steps, size.LearningRate);
        }));

        using var moe = LoadBase(options, device);
        var adapter = new MoeConfig
        {
            NumExperts = options.NumExperts, TopK = options.TopK,
            BaseModelNameOrPath = Path.GetFullPath(options.BaseModelDir),
        };
        var (stage1, stage2) = (new Stage1Policy(adapter), new Stage2Policy(adapter));
        variants.Add(Phase("MoE stage 1: upcycle, train new experts on new languages", () =>
        {
            Upcycler.Upcycle(moe, adapter, options.Seed);
            options.ChooseKernels(moe);
            var variant = trainer.TrainAndEvaluate("moe_stage1", "MoE stage 1 only", moe, stage1, corpora.Stage1,
                size.Stage1Steps, size.LearningRate);
            Inspect("moe_stage1", moe, corpora, size, display, routing, traces);
            return variant;
        }));
        variants.Add(Phase("MoE stage 2: routers only, LPR with old-language replay", () =>
        {
            var variant = trainer.TrainAndEvaluate("moe_lpr", "MoE-LPR (stage 1 + 2)", moe, stage2, corpora.Stage2,
                size.Stage2Steps, size.Stage2LearningRate);
            Inspect("moe_lpr", moe, corpora, size, display, routing, traces);
            return variant;
        }));

        var result = Phase("write results and report", () =>
        {
            var partial = new DemoResult(options, stage1, stage2, lora, variants, stage1Tokens, stage2Tokens,
                                         stage2OldTokens, corpora.Stage2.OldLanguageTokens, routing, traces,
                                         phases.ToList(), clock.Elapsed, MachineDescription(device));
            DemoResultsWriter.Write(partial, options.OutputDir);
            return partial;
        });
        result = result with { Phases = phases.ToList(), WallTime = clock.Elapsed };
        DemoResultsWriter.Write(result, options.OutputDir); // again, so the files carry the report phase's time too
        console.WriteLine(DemoResultsWriter.Markdown(result));
        console.WriteLine($"demo ({size.Name}) finished in {clock.Elapsed.TotalMinutes:0.0} min → " +
                          $"{Path.GetFullPath(options.OutputDir)}");
        return result;
    }

    static LlamaForCausalLM LoadBase(DemoOptions options, Device device)
    {
        var model = HfModelDirectory.Load(options.BaseModelDir, ScalarType.Float32);
        model.to(device);
        return model;
    }

    /// <summary>
    /// Routing statistics over the first test blocks of each language, and the traces of an English and a Greek
    /// sentence.
    /// </summary>
    static void Inspect(string key, LlamaForCausalLM model, DemoCorpora corpora, DemoSize size, TokenDisplay display,
                        Dictionary<string, RoutingStatistics> routing, Dictionary<string, TokenRoutingTrace> traces)
    {
        var batches = corpora.Evaluation.SelectMany(set =>
        {
            int blocks = Math.Min(size.RoutingBlocks, set.Corpus.Count);
            return Enumerable.Range(0, blocks).Chunk(size.BatchSize)
                .Select(chunk => new LabelledTokens(set.Name, set.Corpus.MakeBatch(chunk).InputIds));
        });
        routing[key] = RoutingStatistics.Collect(model, batches);
        foreach (var language in new[] { "en", "el" })
        {
            var set = corpora.Evaluation.First(s => s.Name == language);
            var ids = set.Corpus.Blocks[0].Take(size.TraceTokens).ToArray();
            traces[$"{key}/{language}"] = TokenRoutingTrace.Trace(model, ids, ids.Select(id => display[id]).ToArray());
        }
    }

    static string MachineDescription(Device device) =>
        $"{Environment.ProcessorCount} logical CPU cores, {device.type} device, " +
        $"libtorch {LibTorchNatives.LoadedVersion()} " +
        $"with {torch.get_num_threads()} threads, " +
        $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
}
