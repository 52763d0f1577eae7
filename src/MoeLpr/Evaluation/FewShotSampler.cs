namespace MoeLpr.Evaluation;

/// <summary>
/// Picks k solved examples for a few-shot prompt, as the harness does: from a separate pool (its fewshot split),
/// with one seeded generator consumed in evaluation order (harness default seed 1234), never the item itself.
/// Examples come from the item's own language, since every language is its own harness task.
/// </summary>
public sealed class FewShotSampler
{
    public const int DefaultSeed = 1234;

    readonly Dictionary<string, List<MultipleChoiceItem>> poolByLanguage;
    readonly Random random;

    public FewShotSampler(IReadOnlyList<MultipleChoiceItem> pool, int seed = DefaultSeed)
    {
        poolByLanguage = pool.GroupBy(i => i.Language).ToDictionary(g => g.Key, g => g.ToList());
        random = new Random(seed);
    }

    public IReadOnlyList<MultipleChoiceItem> Sample(MultipleChoiceItem item, int k)
    {
        if (k == 0) return [];
        var candidates = poolByLanguage.GetValueOrDefault(item.Language, [])
            .Where(c => !IsSame(c, item)).ToList();
        if (candidates.Count < k)
            throw new InvalidDataException(
                $"few-shot pool has {candidates.Count} examples in language '{item.Language}', {k} needed");
        // Partial Fisher–Yates: the first k slots become a uniform sample without replacement.
        for (int i = 0; i < k; i++)
        {
            int j = random.Next(i, candidates.Count);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        return candidates.Take(k).ToList();
    }

    static bool IsSame(MultipleChoiceItem a, MultipleChoiceItem b) =>
        a.Id is not null && b.Id is not null ? a.Id == b.Id
            : a.Context == b.Context && a.Choices.SequenceEqual(b.Choices);
}
