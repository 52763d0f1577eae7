using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;
using MoeLpr.Data;

namespace MoeLpr.Evaluation;

/// <summary>One dataset to score: its packed blocks and its language group (null when the registry has none).</summary>
public sealed record EvaluationSet(string Name, bool? IsOldLanguage, PackedCorpus Corpus);

/// <summary>
/// Perplexity per dataset and per language group: exp of the token-weighted mean next-token NLL over the packed
/// blocks, with the training labels (EOS targets left out when a masked id is given). Runs in eval mode under
/// no_grad and restores the model's previous mode.
/// </summary>
public static class PerplexityEvaluator
{
    /// <param name="scored">Sees each dataset's row as soon as it is scored (progress on long evaluations).</param>
    public static PerplexityReport Evaluate(LlamaForCausalLM model, IReadOnlyList<EvaluationSet> sets, int batchSize,
        int? maskedLabelTokenId, Device? device = null, Action<PerplexityRow>? scored = null)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size must be at least 1 (got {batchSize})");
        device ??= model.parameters().First().device;
        using var _ = EvaluationMode.Enter(model);
        var rows = new List<PerplexityRow>();
        foreach (var set in sets)
        {
            var (nll, tokens) = SumNll(model, set, batchSize, maskedLabelTokenId, device);
            rows.Add(PerplexityRow.Of(set.Name, "dataset", Language(set.IsOldLanguage), nll, tokens));
            scored?.Invoke(rows[^1]);
        }
        foreach (var group in rows.Where(r => r.Language != "")
            .GroupBy(r => r.Language).OrderBy(g => g.Key, StringComparer.Ordinal).ToList())
            rows.Add(PerplexityRow.Of(group.Key, "group", group.Key, group.Sum(r => r.NllSum),
                group.Sum(r => r.Tokens)));
        return new PerplexityReport(rows);
    }

    static string Language(bool? isOld) => isOld switch { true => "old", false => "new", null => "" };

    /// <summary>
    /// Summed NLL (float64) and the number of scored targets over every block of the set. Both sums stay on the device
    /// and are read once, so that the host does not wait for the device after every batch.
    /// </summary>
    static (double Nll, long Tokens) SumNll(LlamaForCausalLM model, EvaluationSet set, int batchSize,
        int? maskedLabelTokenId, Device device)
    {
        using var nll = torch.zeros([], ScalarType.Float64, device);
        using var tokens = torch.zeros([], ScalarType.Int64, device);
        for (int start = 0; start < set.Corpus.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var blocks = Enumerable.Range(start, Math.Min(batchSize, set.Corpus.Count - start)).ToArray();
            var ids = set.Corpus.MakeBatch(blocks).InputIds.to(device);
            var labels = LanguageModelingLabels.From(ids, maskedLabelTokenId);
            var logits = model.forward(new CausalLMInput(ids)).Logits;
            long vocab = logits.shape[^1], length = logits.shape[1];
            var shiftedLogits = logits.narrow(1, 0, length - 1).reshape(-1, vocab);
            var shiftedLabels = labels.narrow(1, 1, length - 1).reshape(-1);
            nll.add_(nn.functional.cross_entropy(shiftedLogits, shiftedLabels,
                ignore_index: LlamaForCausalLM.IgnoreIndex, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64));
            tokens.add_(shiftedLabels.ne(LlamaForCausalLM.IgnoreIndex).sum());
        }
        return (nll.item<double>(), tokens.item<long>());
    }
}
