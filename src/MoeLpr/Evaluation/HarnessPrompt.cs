using Microsoft.ML.Tokenizers;

namespace MoeLpr.Evaluation;

/// <summary>
/// The lm-evaluation-harness conventions for multiple-choice prompts: a choice is scored as the continuation
/// <c>" " + choice</c> (target delimiter) of the context; few-shot examples are <c>context + " " + gold choice</c>
/// joined and followed by a blank line ("\n\n", the fewshot delimiter).
/// </summary>
internal static class HarnessPrompt
{
    public const string TargetDelimiter = " ";
    public const string FewShotDelimiter = "\n\n";

    public static string Context(MultipleChoiceItem item, IReadOnlyList<MultipleChoiceItem> examples) =>
        string.Concat(examples.Select(e => e.Context + TargetDelimiter + e.Choices[e.Gold] + FewShotDelimiter)) +
        item.Context;

    public static string Continuation(string choice) => TargetDelimiter + choice;

    /// <summary>
    /// Token ids of (context, continuation) as the harness's <c>_encode_pair</c> makes them: trailing whitespace of the
    /// context moves to the continuation, the whole string is encoded once, and the continuation is whatever follows
    /// the context's own encoding, so merges across the boundary behave as in running text. An empty context becomes
    /// the end-of-text token.
    /// </summary>
    public static (int[] Context, int[] Continuation) EncodePair(Tokenizer tokenizer, string context,
        string continuation, int endOfTextId)
    {
        if (context.Length == 0) return ([endOfTextId], tokenizer.EncodeToIds(continuation).ToArray());
        string trimmed = context.TrimEnd();
        continuation = context[trimmed.Length..] + continuation;
        var whole = tokenizer.EncodeToIds(trimmed + continuation);
        var contextIds = tokenizer.EncodeToIds(trimmed).ToArray();
        return (contextIds, whole.Skip(contextIds.Length).ToArray());
    }
}
