using Microsoft.ML.Tokenizers;
using MoeLpr.Model;

namespace MoeLpr.Evaluation;

/// <summary>How to run a multiple-choice evaluation.</summary>
/// <param name="NumFewShot">Solved examples in front of each question (harness <c>num_fewshot</c>).</param>
/// <param name="FewShotPool">Where examples come from (a split other than the evaluated one); required when NumFewShot
/// &gt; 0.</param>
/// <param name="Seed">Seeds the example sampling (harness default 1234).</param>
/// <param name="BatchSize">Scored continuations per forward pass.</param>
/// <param name="MaxLength">Context length in tokens; default the model's max_position_embeddings.</param>
public sealed record MultipleChoiceOptions(int NumFewShot = 0, IReadOnlyList<MultipleChoiceItem>? FewShotPool = null,
                                           int Seed = FewShotSampler.DefaultSeed,
                                           int BatchSize = EvaluationDefaults.BatchSize, int? MaxLength = null);

/// <summary>
/// One multiple-choice question in the lm-evaluation-harness style: the model scores each choice as a continuation of
/// <paramref name="Context"/> and picks the likeliest. <paramref name="Gold"/> indexes <paramref name="Choices"/>.
/// </summary>
public sealed record MultipleChoiceItem(string Context, IReadOnlyList<string> Choices, int Gold, string Language,
    string? Id = null);

/// <summary>
/// Multiple-choice evaluation in the lm-evaluation-harness style: each choice is scored by the summed log-likelihood
/// of <c>" " + choice</c> after the (optionally few-shot) context; see <see cref="MultipleChoiceScore"/> for the
/// metrics.
/// </summary>
public static class MultipleChoiceEvaluator
{
    /// <param name="endOfTextId">Stands in for an empty context, as in the harness.</param>
    public static MultipleChoiceResult Evaluate(LlamaForCausalLM model, Tokenizer tokenizer, int endOfTextId,
                                                IReadOnlyList<MultipleChoiceItem> items,
                                                MultipleChoiceOptions? options = null)
    {
        options ??= new MultipleChoiceOptions();
        if (options.NumFewShot < 0)
            throw new ArgumentOutOfRangeException(nameof(options),
                "the number of few-shot examples cannot be negative");
        if (options.NumFewShot > 0 && options.FewShotPool is null)
            throw new ArgumentException("few-shot evaluation needs a pool of examples from another split",
                nameof(options));
        var sampler = new FewShotSampler(options.FewShotPool ?? [], options.Seed);

        var requests = new List<(int[] Context, int[] Continuation)>();
        foreach (var item in items)
        {
            string context = HarnessPrompt.Context(item, sampler.Sample(item, options.NumFewShot));
            foreach (var choice in item.Choices)
                requests.Add(
                    HarnessPrompt.EncodePair(tokenizer, context, HarnessPrompt.Continuation(choice), endOfTextId));
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
