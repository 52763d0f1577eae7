using MoeLpr.Data;

namespace MoeLpr.Evaluation;

/// <summary>One dataset to score: its packed blocks and its language group (null when the registry has none).</summary>
public sealed record EvaluationSet(string Name, bool? IsOldLanguage, PackedCorpus Corpus);
