using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Devices;
using MoeLpr.Runs;
using TorchSharp;

namespace MoeLpr.Evaluation;

/// <summary>
/// What <see cref="EvaluationRun"/> scores: a base model (plus an optional MoE or LoRA adapter), or a merged Mixtral
/// folder, on registered datasets.
/// </summary>
public sealed record EvaluationOptions : ModelDataOptions
{
    /// <summary>Blocks per forward pass.</summary>
    public int BatchSize { get; init; } = EvaluationDefaults.BatchSize;
}

/// <summary>
/// Loads model, adapter, tokenizer and datasets (each packed on its own) and computes their perplexity.
/// </summary>
public static class EvaluationRun
{
    /// <param name="console">Where to say what is scored, and each dataset's result as it comes; silent when null.
    /// </param>
    public static PerplexityReport Run(EvaluationOptions options, TextWriter? console = null)
    {
        if (options.Datasets.Count == 0) throw new ArgumentException("no dataset given (--dataset a,b,c)");
        string tokenizerDir = TokenizerLoader.FolderFor(options.TokenizerDir, options.ModelDir);
        var setup = RunSetup.Start(options, tokenizerDir);
        var dtype = TorchDtypeName.Parse(options.Dtype, "--dtype");
        var sets = setup.PackEach(options)
            .Select(d => new EvaluationSet(d.Dataset.Name, d.Dataset.IsOldLanguage, d.Corpus)).ToList();

        var (model, _) = ModelWithAdapter.Load(options.ModelDir, options.AdapterDir, dtype);
        using (model)
        {
            model.Config.RequireTokenId(sets.Max(set => set.Corpus.MaxTokenId), tokenizerDir);
            model.to(setup.Device);
            options.ChooseKernels(model);
            console?.WriteLine($"scoring {options.ModelDir}" +
                               (options.AdapterDir is null ? "" : $" with {options.AdapterDir}") +
                               $" ({options.Dtype}, {setup.Device.type}) on {sets.Count} datasets, " +
                               $"{sets.Sum(set => set.Corpus.Count)} blocks of {options.CutoffLen} tokens");
            return PerplexityEvaluator.Evaluate(model, sets, options.BatchSize,
                options.MaskEosInLabels ? setup.Tokenizer.EosId : null, setup.Device,
                row => console?.WriteLine(FormattableString.Invariant(
                    $"  {row.Name}: perplexity {row.Perplexity:0.000} over {row.Tokens:N0} tokens")));
        }
    }
}
