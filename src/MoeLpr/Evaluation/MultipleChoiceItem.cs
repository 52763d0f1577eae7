namespace MoeLpr.Evaluation;

/// <summary>
/// One multiple-choice question in the lm-evaluation-harness style: the model scores each choice as a continuation of
/// <paramref name="Context"/> and picks the likeliest. <paramref name="Gold"/> indexes <paramref name="Choices"/>.
/// </summary>
public sealed record MultipleChoiceItem(string Context, IReadOnlyList<string> Choices, int Gold, string Language, string? Id = null);
