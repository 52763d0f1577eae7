using Microsoft.ML.Tokenizers;
using MoeLpr.Model;

namespace MoeLpr.Evaluation;

/// <summary>
/// Multiple-choice evaluation in the lm-evaluation-harness style: each choice is scored by the summed log-likelihood
/// of <c>" " + choice</c> after the (optionally few-shot) context; see <see cref="MultipleChoiceScore"/> for the metrics.
/// </summary>
public static class MultipleChoiceEvaluator
{
    /// <param name="endOfTextId">Stands in for an empty context, as in the harness.</param>
    public static MultipleChoiceResult Evaluate(LlamaForCausalLM model, Tokenizer tokenizer, int endOfTextId,
                                                IReadOnlyList<MultipleChoiceItem> items, MultipleChoiceOptions? options = null)
    {
        options ??= new MultipleChoiceOptions();
        if (options.NumFewShot < 0) throw new ArgumentOutOfRangeException(nameof(options), "the number of few-shot examples cannot be negative");
        if (options.NumFewShot > 0 && options.FewShotPool is null)
            throw new ArgumentException("few-shot evaluation needs a pool of examples from another split", nameof(options));
        var sampler = new FewShotSampler(options.FewShotPool ?? [], options.Seed);

        var requests = new List<(int[] Context, int[] Continuation)>();
        foreach (var item in items)
        {
            string context = HarnessPrompt.Context(item, sampler.Sample(item, options.NumFewShot));
            foreach (var choice in item.Choices)
                requests.Add(HarnessPrompt.EncodePair(tokenizer, context, HarnessPrompt.Continuation(choice), endOfTextId));
        }
        var logLikelihoods = ContinuationScorer.Score(model, requests, options.BatchSize, options.MaxLength);

        var scores = new List<MultipleChoiceScore>();
        int next = 0;
        foreach (var item in items)
        {
            scores.Add(new MultipleChoiceScore(item, logLikelihoods[next..(next + item.Choices.Count)]));
            next += item.Choices.Count;
        }
        return new MultipleChoiceResult(scores, options.NumFewShot);
    }
}
