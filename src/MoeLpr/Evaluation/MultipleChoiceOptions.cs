namespace MoeLpr.Evaluation;

/// <summary>How to run a multiple-choice evaluation.</summary>
/// <param name="NumFewShot">Solved examples in front of each question (harness <c>num_fewshot</c>).</param>
/// <param name="FewShotPool">Where examples come from (a split other than the evaluated one); required when NumFewShot &gt; 0.</param>
/// <param name="Seed">Seeds the example sampling (harness default 1234).</param>
/// <param name="BatchSize">Scored continuations per forward pass.</param>
/// <param name="MaxLength">Context length in tokens; default the model's max_position_embeddings.</param>
public sealed record MultipleChoiceOptions(int NumFewShot = 0, IReadOnlyList<MultipleChoiceItem>? FewShotPool = null,
                                           int Seed = FewShotSampler.DefaultSeed, int BatchSize = 8, int? MaxLength = null);
