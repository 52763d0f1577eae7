using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Model;
using MoeLpr.Training.Losses;

namespace MoeLpr.Training.Recipes;

/// <summary>
/// A recipe's inputs, checked as <c>moelpr train</c> checks them (the stage, the base model's config, the adapter's,
/// every dataset's entry, file and SHA-1), with what the README must say about them.
/// </summary>
internal sealed record RecipePlan(
    RecipeOptions Options, ModelConfig Base, MoeConfig? Adapter, IReadOnlyList<RecipeDataset> Datasets,
    IReadOnlyList<string> Warnings)
{
    public static RecipePlan Check(RecipeOptions options)
    {
        var run = options.Training;
        if (run.Stage is not (TrainingStage.Stage1 or TrainingStage.Stage2))
            throw new ArgumentException(
                $"--stage {run.Stage.ToString().ToLowerInvariant()}: the recipe writes the authors' stage-1 and " +
                "stage-2 scripts; full fine-tuning and LoRA have none");
        run.Validate();
        if (run.ReplayMaxSamples is not null && run.ReplayMaxSamples != run.MaxSamples)
            throw new ArgumentException(
                "--replay-max-samples: LLaMA-Factory takes one max_samples for every dataset; give the old-language " +
                "replay its own document count in its data file instead");
        if (options.NumGpus < 1) throw new ArgumentException($"--num-gpus must be at least 1 (got {options.NumGpus})");
        if (options.MasterPort is < 1 or > 65535)
            throw new ArgumentException($"--master-port must be a TCP port, 1 to 65535 (got {options.MasterPort})");
        if (run.Stage == TrainingStage.Stage1)
            new MoeConfig { NumExperts = run.NumExperts, TopK = run.TopK }.Validate("--num-experts/--topk");
        TorchDtypeName.Parse(run.Dtype, "--dtype");

        var warnings = new List<string>();
        var baseConfig = ModelConfig.Load(Path.Combine(run.ModelDir, HfModelDirectory.ConfigFileName));
        if (baseConfig.ModelType != "qwen2")
            warnings.Add($"{run.ModelDir}: model_type '{baseConfig.ModelType}': the released code patches only " +
                         $"modeling_qwen2.py for MoE-LPR; port that patch to modeling_{baseConfig.ModelType}.py first");
        MoeConfig? adapter = null;
        if (run.AdapterDir is not null)
        {
            if (Directory.Exists(run.AdapterDir))
                adapter = MoeConfig.Load(Path.Combine(run.AdapterDir, PeftAdapterFiles.ConfigFileName));
            else
                warnings.Add($"{run.AdapterDir}: not there yet; run the stage-1 recipe first (or set STAGE1_PATH)");
        }

        var registry = DatasetRegistry.Open(run.DatasetInfo);
        var datasets = run.Datasets.Select(name => Dataset(registry, name, run)).ToList();
        if (run.Stage == TrainingStage.Stage2 && datasets.All(d => d.Entry.Language != DatasetEntry.OldLanguage))
            throw new InvalidDataException(
                $"{registry.InfoPath}: none of {string.Join(", ", run.Datasets)} is \"old\": the released code's LPR " +
                "loss is NaN on a micro-batch without old-language tokens; add an old-language replay dataset");
        return new RecipePlan(options, baseConfig, adapter, datasets, warnings);
    }

    /// <summary>The entry as LLaMA-Factory needs it: the file there, its SHA-1 checked (unless allowed).</summary>
    static RecipeDataset Dataset(DatasetRegistry registry, string name, TrainingOptions run)
    {
        var (entry, path, sha1) = registry.Verify(name, requireLanguage: run.Stage == TrainingStage.Stage2,
            run.AllowSha1Mismatch);
        var columns = entry.Columns ?? new DatasetColumns { Prompt = "text" };
        return new RecipeDataset(name, entry with { FileSha1 = sha1, Columns = columns }, path);
    }

    /// <summary>Where the kit's run and this recipe's differ, for the README (one bullet each).</summary>
    public IReadOnlyList<string> Differences()
    {
        var run = Options.Training;
        bool stage2 = run.Stage == TrainingStage.Stage2;
        var list = new List<string>();
        if (stage2 && run.LprLossForm == LprLossForm.Nll)
            list.Add("**LPR loss form.** The kit's default (`--lpr-loss-form nll`) is the paper's described loss, " +
                     "−log p₀ per (MoE layer, old-language token). The released code computes a cross-entropy on " +
                     "the router *probabilities* (−p₀ + log Σₑ exp pₑ), bounded and with a much weaker gradient; " +
                     "this recipe runs the released code, so it trains with that form (the kit's " +
                     "`--lpr-loss-form reference`).");
        if (stage2)
            list.Add("**Micro-batches without old-language tokens.** The released LPR loss is NaN on them (a mean " +
                     "over no tokens); the kit adds 0. Keep the replay large enough that every micro-batch has some " +
                     "(`--max_samples` caps every dataset at the same number of documents).");
        if (Base.ModelType != "qwen2")
            list.Add($"**Model type.** The base is `{Base.ModelType}`. The released code patches only " +
                     "`transformers/models/qwen2/modeling_qwen2.py` (MoE MLP, router logits, aux and LPR losses); " +
                     $"`modeling_{Base.ModelType}.py` is unmodified and fails on the MoE MLP's tuple output. " +
                     "Port the Qwen2 patch first, or start from a Qwen2 base.");
        list.Add("**Data order and packing.** LLaMA-Factory packs each `datasets.map` batch of 1,000 documents " +
                 "into `cutoff_len` blocks (so a block can span two documents, and two datasets at their " +
                 "boundary), shuffles the blocks with seed 22 and samples them with the run's seed; the kit packs " +
                 "each dataset on its own (a block never mixes languages) and visits the blocks in its own seeded " +
                 "order. The router initialisation also draws from another random stream. Same data and settings, " +
                 "not the same bits.");
        list.Add("**Precision.** " + run.Dtype switch
        {
            "bfloat16" => "`--bf16` loads the weights in bf16, as the kit's `--dtype bfloat16`; the authors' " +
                          "ds_config.json has no bf16 block, so DeepSpeed's own bf16 mode stays off (as in their " +
                          "runs).",
            "float16" => "`--fp16` turns on DeepSpeed's fp16 mode with dynamic loss scaling; the kit's `train` " +
                         "refuses float16, having no loss scaling.",
            _ => "The kit's run is float32 and so is this one (no `--bf16`); the authors trained with `--bf16` " +
                 "(`--dtype bfloat16` in the kit).",
        });
        list.Add("**Checkpoints.** `--save_only_model` (as the authors' scripts) leaves the optimizer state out, " +
                 "so a LLaMA-Factory checkpoint restarts the optimizer; the kit's checkpoints resume exactly. " +
                 "LLaMA-Factory also turns gradient checkpointing on (same numbers, less memory).");
        if (!run.MaskEosInLabels)
            list.Add("**EOS targets.** The kit's run scores them (`--keep-eos-targets`); LLaMA-Factory's collator " +
                     "masks them (pad = eos).");
        if (run.TokenizerDir is not null)
            list.Add("**Tokenizer.** LLaMA-Factory reads it from `--model_name_or_path`; copy the tokenizer files " +
                     "of the kit's `--tokenizer` folder into the base model folder.");
        string logged = stage2 ? "`lpr__loss` and `old_lang_expert0_score`" : "`load_balance__loss` and " +
                                                                             "`scores_per_expert`";
        list.Add($"**Logs.** LLaMA-Factory logs `loss` with {logged} from one micro-batch per logging step; the " +
                 $"kit's `metrics.jsonl` logs {(stage2 ? "`lpr_loss`" : "`aux_loss`")} averaged over the logging " +
                 (stage2 ? "window's old-language tokens (absent where it had none)." : "window."));
        return list;
    }
}
