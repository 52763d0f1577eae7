using System.Globalization;
using System.Text;
using MoeLpr.Data;
using MoeLpr.Devices;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Training.Pretraining;

/// <summary>
/// The README.md written next to a pretrained base model: what it was trained on, how, and how to reproduce it.
/// </summary>
internal static class ModelCard
{
    public static string Write(PretrainingOptions options, ModelConfig config, PackedCorpus corpus,
        PretrainingResult result, IReadOnlyList<TrainingMetrics> metrics, Device device)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine("# MoeLpr tiny base model");
        text.AppendLine();
        text.AppendLine("A dense LLaMA-architecture causal LM pretrained from random weights by `moelpr pretrain` on " +
                        "the **old languages only**,");
        text.AppendLine("the starting point of the kit's small-scale MoE-LPR replication (`moelpr demo`). It has " +
                        "never seen the new languages.");
        text.AppendLine();
        text.AppendLine("## Architecture");
        text.AppendLine();
        text.AppendLine(inv, $"- {result.Parameters:N0} parameters, float32; hidden {config.HiddenSize}, " +
                             $"{config.NumHiddenLayers} layers, {config.NumAttentionHeads} attention heads / " +
                             $"{config.KeyValueHeads} key-value heads (GQA), SwiGLU intermediate " +
                             $"{config.IntermediateSize}, RoPE θ {config.RopeTheta}, RMSNorm ε {config.RmsNormEps}");
        text.AppendLine(inv, $"- vocabulary {config.VocabSize} (byte-level BPE, `tokenizer.json`), " +
                             $"{(config.TieWordEmbeddings ? "tied" : "untied")} input/output embeddings, " +
                             $"EOS = pad = `{ByteLevelBpe.EndOfText}` (id {config.EosTokenId})");
        text.AppendLine();
        text.AppendLine("## Data");
        text.AppendLine();
        text.AppendLine(inv, $"The datasets of `{options.DatasetInfo}` below, documents tokenised without BOS, " +
                             $"EOS appended, packed into");
        text.AppendLine(inv, $"{corpus.CutoffLen}-token blocks per dataset:");
        text.AppendLine();
        text.AppendLine("| dataset | documents | tokens | blocks |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var d in corpus.Datasets)
            text.AppendLine(inv, $"| {d.Name} | {d.Documents} | {d.Tokens:N0} | {d.Blocks} |");
        text.AppendLine(inv, $"| **total** | {corpus.Datasets.Sum(d => d.Documents)} | " +
                             $"{corpus.Datasets.Sum(d => d.Tokens):N0} | {corpus.Count} |");
        text.AppendLine();
        text.AppendLine("## Training");
        text.AppendLine();
        var optimization = options.Optimization;
        text.AppendLine(inv, $"- {result.Training.GlobalStep} AdamW steps (β 0.9/0.999, no weight decay, clip 1.0), " +
                             $"batch {optimization.BatchSize * optimization.GradientAccumulationSteps} blocks × " +
                             $"{options.CutoffLen} tokens, peak lr {optimization.LearningRate:g}, " +
                             $"{optimization.WarmupSteps} warmup steps then cosine to 0");
        text.AppendLine(inv, $"- {result.TokensSeen:N0} tokens seen " +
                             $"({(double)result.TokensSeen / Math.Max(1, corpus.Count * (long)corpus.CutoffLen):0.0} " +
                             $"epochs); EOS targets left out of the loss");
        text.AppendLine(inv,
            $"- seed {optimization.Seed} (weight initialisation N(0, {options.InitializerRange:g}) and block order)");
        var machine = device.type == DeviceType.CPU
            ? $"{Environment.ProcessorCount} CPU cores, {torch.get_num_threads()} libtorch threads"
            : $"{device} (libtorch {LibTorchNatives.LoadedVersion()})";
        text.AppendLine(inv,
            $"- wall time {result.WallTime.TotalMinutes:0.0} min on {machine} ({Environment.OSVersion})");
        if (metrics.Count > 0)
        {
            var first = metrics[0];
            var last = metrics[^1];
            text.AppendLine(inv, $"- LM loss {first.LmLoss:0.000} at step {first.Step} → {last.LmLoss:0.000} at " +
                                 $"step {last.Step} (perplexity {Math.Exp(last.LmLoss):0.0}); " +
                                 $"the per-step log is in `metrics.jsonl`");
        }
        text.AppendLine();
        text.AppendLine("## Reproduce");
        text.AppendLine();
        text.AppendLine("```sh");
        text.AppendLine(options.CommandLine ?? "moelpr pretrain (command line not recorded)");
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine("Results match bit for bit only with the same thread count and libtorch build; " +
                        "otherwise they agree to float32 rounding.");
        return text.ToString();
    }
}
