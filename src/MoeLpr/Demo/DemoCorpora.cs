using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Runs;

namespace MoeLpr.Demo;

/// <summary>
/// The demo's packed data: stage 1 / baselines (new-language train pages), stage 2 (new-language pages plus the
/// old-language replay) and one evaluation set per language (test pages).
/// </summary>
/// <param name="TaskItems">The multiple-choice items scored for every model (empty without a task file).</param>
internal sealed record DemoCorpora(PackedCorpus Stage1, PackedCorpus Stage2, IReadOnlyList<EvaluationSet> Evaluation,
    IReadOnlyList<MultipleChoiceItem> TaskItems)
{
    public static DemoCorpora Load(DemoOptions options, RunSetup setup)
    {
        var size = options.Size;
        var registry = setup.Registry;
        PackedCorpus Pack(IReadOnlyList<LoadedDataset> datasets) =>
            setup.Pack(datasets, size.CutoffLen, options.CacheDir, requireLanguage: true);
        IReadOnlyList<LoadedDataset> Train(IEnumerable<string> languages, int? documents) =>
            registry.LoadMany(languages.Select(l => DemoLanguages.Dataset(l, "train")), documents,
                requireLanguage: true);

        var stage1 = Pack(Train(DemoLanguages.New, size.TrainDocuments));
        var stage2 = Pack(
            [.. Train(DemoLanguages.New, size.Stage2NewDocuments), .. Train(DemoLanguages.Old, size.ReplayDocuments)]);
        if (stage2.OldLanguageTokens == 0)
            throw new InvalidDataException($"{registry.InfoPath}: the old-language replay ({size.ReplayDocuments} " +
                                           $"pages per language) is shorter than one {size.CutoffLen}-token block");

        var evaluation = DemoLanguages.All.Select(language =>
        {
            var test = registry.Load(DemoLanguages.Dataset(language, "test"), size.EvalDocuments,
                requireLanguage: true);
            var corpus = Pack([test]);
            if (corpus.Count == 0)
                throw new InvalidDataException($"{test.FilePath}: fewer than {size.CutoffLen} tokens to evaluate");
            return new EvaluationSet(language, DemoLanguages.IsOld(language), corpus);
        }).ToList();
        var items = options.TaskFile is null ? [] : MultipleChoiceTaskFile.Load(options.TaskFile)
            .Where(item => DemoLanguages.All.Contains(item.Language))
            .GroupBy(item => item.Language)
            .SelectMany(group => size.TaskItemsPerLanguage is int n ? group.Take(n) : group)
            .ToList();
        return new DemoCorpora(stage1, stage2, evaluation, items);
    }
}
