using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Devices;
using MoeLpr.Model;
using MoeLpr.Runs;
using MoeLpr.Upcycling;
using TorchSharp;

namespace MoeLpr.Training;

/// <summary>
/// A whole training run from <see cref="TrainingOptions"/>: load tokenizer, datasets (packed, with language masks)
/// and model; upcycle or load the adapter as the stage requires; pick the stage policy; train; write the output, with
/// the tokenizer files next to it so the folder loads on its own (HF's <c>save_pretrained</c> convention). The output
/// folder is held by <see cref="RunLock"/> for the whole run.
/// </summary>
public static class TrainingRun
{
    public static TrainingResult Run(TrainingOptions options, TextWriter? console = null,
        CancellationToken cancellation = default)
    {
        console ??= Console.Out;
        RequireConsistent(options);
        using var runLock = RunLock.Acquire(options.OutputDir);
        string tokenizerDir = TokenizerLoader.FolderFor(options.TokenizerDir, options.ModelDir);
        var setup = RunSetup.Start(options, tokenizerDir);
        var dtype = TorchDtypeName.Parse(options.Dtype, "--dtype");
        torch.manual_seed(options.Optimization.Seed);
        bool needLanguage = options.Stage == TrainingStage.Stage2;
        var datasets = setup.Load(options, needLanguage, options.ReplayMaxSamples);
        var corpus = setup.Pack(datasets, options, needLanguage);
        if (corpus.Count == 0)
            throw new InvalidDataException($"{string.Join(", ", datasets.Select(d => d.FilePath))}: fewer than " +
                                           $"cutoff_len = {options.CutoffLen} tokens in all, no block to train on");

        var loaded = ModelWithAdapter.Load(options.ModelDir, options.AdapterDir, dtype);
        using (var model = loaded.Model)
        {
            RequireTrainable(options, loaded);
            model.Config.RequireTokenId(corpus.MaxTokenId, tokenizerDir);
            var policy = CreatePolicy(options, model, loaded.Moe);
            options.ChooseKernels(model);
            if (options.Stage == TrainingStage.Stage2 && corpus.OldLanguageTokens == 0)
                console.WriteLine("warning: no old-language tokens in the data; the LPR loss stays 0 and only the LM " +
                                  "loss trains the routers");
            foreach (var d in corpus.Datasets)
            {
                console.WriteLine($"dataset {d.Name} ({(d.IsOldLanguage ? "old" : "new")}): {d.Documents} documents, " +
                                  $"{d.Tokens} tokens, {d.Blocks} blocks");
                if (d.Blocks == 0)
                    console.WriteLine($"warning: dataset {d.Name} has fewer than cutoff_len = {corpus.CutoffLen} " +
                                      "tokens; nothing of it is trained on");
            }
            var trainer = new Trainer(model, policy, corpus,
                options.ToTrainerOptions(setup.Tokenizer.EosId, setup.Device), options.OutputDir, console);
            var experts = MoeBlock.ExpertDispatchOf(model, setup.Device.type);
            console.WriteLine($"{policy.Name}: {corpus.Count} blocks of {corpus.CutoffLen} tokens, " +
                              $"{trainer.PlannedSteps} optimizer steps on {setup.Device.type}, attention " +
                              LlamaAttention.ImplementationOf(model, setup.Device.type) +
                              (experts is null ? "" : $", experts run {experts}"));
            var result = trainer.Train(options.Resume, cancellation);
            if (result.Completed) TokenizerLoader.CopyFiles(tokenizerDir, options.OutputDir);
            return result;
        }
    }

    static void RequireConsistent(TrainingOptions options)
    {
        options.Validate();
        // float16's small range makes gradients underflow without dynamic loss scaling, which the kit does not do.
        if (TorchDtypeName.Parse(options.Dtype, "--dtype") == torch.ScalarType.Float16)
            throw new ArgumentException("--dtype float16: training in float16 needs loss scaling, which the kit does " +
                                        "not implement; train in bfloat16 (as the reference does) or float32");
    }

    /// <summary>Every stage starts from a dense HF folder; stages 1 and 2 continue MoE adapters only.</summary>
    static void RequireTrainable(TrainingOptions options, LoadedModel loaded)
    {
        if (loaded.Kind == AdapterKind.Mixtral)
            throw new InvalidDataException(
                $"{options.ModelDir}: a merged Mixtral folder; training starts from a dense HF model " +
                "(with --adapter for an MoE adapter)");
        if (loaded.Kind == AdapterKind.Lora)
            throw new InvalidDataException(
                $"{Path.Combine(options.AdapterDir!, PeftAdapterFiles.ConfigFileName)}: peft_type is 'LORA'; " +
                "stages 1 and 2 continue an MoE adapter (peft_type 'MOE')");
    }

    static TrainingPolicy CreatePolicy(TrainingOptions options, LlamaForCausalLM model, MoeConfig? adapter)
    {
        switch (options.Stage)
        {
            case TrainingStage.Stage1:
                if (adapter is null)
                {
                    adapter = new MoeConfig
                    {
                        NumExperts = options.NumExperts, TopK = options.TopK,
                        BaseModelNameOrPath = Path.GetFullPath(options.ModelDir),
                    };
                    adapter.Validate("--num-experts/--topk");
                    Upcycler.Upcycle(model, adapter, options.Optimization.Seed);
                }
                return new Stage1Policy(adapter with { AuxLossCoef = options.AuxLossCoef });
            case TrainingStage.Stage2:
                return new Stage2Policy(adapter! with { LprLossCoef = options.LprLossCoef }, options.LprLossForm);
            case TrainingStage.Lora:
                var lora = options.Lora with { BaseModelNameOrPath = Path.GetFullPath(options.ModelDir) };
                return new LoraPolicy(lora, options.Optimization.Seed);
            default:
                return new FullFineTunePolicy();
        }
    }
}
