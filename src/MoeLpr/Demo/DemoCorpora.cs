using MoeLpr.Data;
using MoeLpr.Evaluation;

namespace MoeLpr.Demo;

/// <summary>
/// The demo's packed data: stage 1 / baselines (new-language train pages), stage 2 (new-language pages plus the
/// old-language replay) and one evaluation set per language (test pages).
/// </summary>
public sealed record DemoCorpora(PackedCorpus Stage1, PackedCorpus Stage2, IReadOnlyList<EvaluationSet> Evaluation)
{
    public static DemoCorpora Load(DemoOptions options, LoadedTokenizer tokenizer)
    {
        var size = options.Size;
        var registry = DatasetRegistry.Open(options.DatasetInfo);
        PackedCorpus Pack(IReadOnlyList<LoadedDataset> datasets) =>
            CorpusPacker.Pack(datasets, tokenizer, size.CutoffLen, options.CacheDir, requireLanguage: true);
        IReadOnlyList<LoadedDataset> Train(IEnumerable<string> languages, int? documents) =>
            registry.LoadMany(languages.Select(l => DemoLanguages.Dataset(l, "train")), documents, requireLanguage: true);

        var stage1 = Pack(Train(DemoLanguages.New, size.TrainDocuments));
        var stage2 = Pack([.. Train(DemoLanguages.New, size.Stage2NewDocuments), .. Train(DemoLanguages.Old, size.ReplayDocuments)]);
        if (stage2.OldLanguageTokens == 0)
            throw new InvalidDataException($"{registry.InfoPath}: the old-language replay ({size.ReplayDocuments} pages per language) is shorter than one {size.CutoffLen}-token block");

        var evaluation = DemoLanguages.All.Select(language =>
        {
            var test = registry.Load(DemoLanguages.Dataset(language, "test"), size.EvalDocuments, requireLanguage: true);
            var corpus = Pack([test]);
            if (corpus.Count == 0) throw new InvalidDataException($"{test.FilePath}: fewer than {size.CutoffLen} tokens to evaluate");
            return new EvaluationSet(language, DemoLanguages.IsOld(language), corpus);
        }).ToList();
        return new DemoCorpora(stage1, stage2, evaluation);
    }
}
