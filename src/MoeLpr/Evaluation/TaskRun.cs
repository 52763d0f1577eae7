using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Devices;
using TorchSharp;

namespace MoeLpr.Evaluation;

/// <summary>What <see cref="TaskRun"/> scores: a model (and adapter) on a multiple-choice task file.</summary>
public sealed record TaskRunOptions : DeviceOptions
{
    public required string ModelDir { get; init; }
    public string? AdapterDir { get; init; }
    /// <summary>Folder with the tokenizer; the model folder when null.</summary>
    public string? TokenizerDir { get; init; }
    public string Dtype { get; init; } = "float32";
    /// <summary>Task JSONL: context, choices, gold, language (<see cref="MultipleChoiceTaskFile"/>).</summary>
    public required string TaskFile { get; init; }
    /// <summary>
    /// Solved examples before each question, drawn from <see cref="FewShotTaskFile"/> (another split).
    /// </summary>
    public int NumFewShot { get; init; }
    public string? FewShotTaskFile { get; init; }
    public int Seed { get; init; } = FewShotSampler.DefaultSeed;
    /// <summary>Continuations per forward pass.</summary>
    public int BatchSize { get; init; } = EvaluationDefaults.BatchSize;
    /// <summary>
    /// Scores only the first this many items of each language, in file order (lm-evaluation-harness's
    /// <c>--limit</c>, per language so that every language is still scored); null scores them all.
    /// </summary>
    public int? Limit { get; init; }
}

/// <summary>Multiple-choice evaluation of a model (<c>moelpr tasks</c>), lm-evaluation-harness style.</summary>
public static class TaskRun
{
    public static MultipleChoiceResult Run(TaskRunOptions options)
    {
        if (options.NumFewShot > 0 && options.FewShotTaskFile is null)
            throw new ArgumentException("--num-fewshot needs --fewshot-task (examples must come from another split)");
        if (options.Limit is < 1) throw new ArgumentException($"--limit must be at least 1 (got {options.Limit})");
        var items = FirstOfEachLanguage(MultipleChoiceTaskFile.Load(options.TaskFile), options.Limit);
        var pool = options.FewShotTaskFile is string poolPath ? MultipleChoiceTaskFile.Load(poolPath) : null;
        var device = options.Start();
        var tokenizer = TokenizerLoader.Load(TokenizerLoader.FolderFor(options.TokenizerDir, options.ModelDir));
        var (model, _) = ModelWithAdapter.Load(options.ModelDir, options.AdapterDir,
            TorchDtypeName.Parse(options.Dtype, "--dtype"));
        using (model)
        {
            model.to(device);
            options.ChooseKernels(model);
            return MultipleChoiceEvaluator.Evaluate(model, tokenizer.Tokenizer, tokenizer.EosId, items,
                new MultipleChoiceOptions(options.NumFewShot, pool, options.Seed, options.BatchSize));
        }
    }

    static IReadOnlyList<MultipleChoiceItem> FirstOfEachLanguage(IReadOnlyList<MultipleChoiceItem> items, int? limit)
    {
        if (limit is not int most) return items;
        var taken = new Dictionary<string, int>();
        return items.Where(item => (taken[item.Language] = taken.GetValueOrDefault(item.Language) + 1) <= most)
            .ToList();
    }
}
