using MoeLpr.Data;
using MoeLpr.Model;
using MoeLpr.Runs;
using MoeLpr.Training.Losses;

namespace MoeLpr.Training;

/// <summary>Which training <see cref="TrainingRun"/> does.</summary>
public enum TrainingStage
{
    /// <summary>
    /// MoE-LPR stage 1: upcycle (or continue an adapter), train routers + new experts on new-language text.
    /// </summary>
    Stage1,
    /// <summary>
    /// MoE-LPR stage 2: routers only, LM + LPR loss on new-language text plus an old-language replay.
    /// </summary>
    Stage2,
    /// <summary>Full fine-tuning of the dense model (the baseline the paper compares against).</summary>
    Full,
    /// <summary>LoRA on the dense model (the paper's LoRA baseline): a PEFT "LORA" adapter, the base frozen.</summary>
    Lora,
}

/// <summary>
/// Everything one <see cref="TrainingRun"/> needs, with the reference scripts' defaults. The CLI's
/// <c>moelpr train</c> fills it from its options; notebooks and the demo build it directly.
/// </summary>
public sealed record TrainingOptions : ModelDataOptions
{
    public TrainingStage Stage { get; init; } = TrainingStage.Stage1;
    public required string OutputDir { get; init; }

    /// <summary>Total experts N when upcycling, including the original MLP.</summary>
    public int NumExperts { get; init; } = new MoeConfig().NumExperts;
    /// <summary>Experts per token K when upcycling.</summary>
    public int TopK { get; init; } = new MoeConfig().TopK;
    public double AuxLossCoef { get; init; } = MoeConfig.ReferenceAuxLossCoef;
    public double LprLossCoef { get; init; } = MoeConfig.ReferenceLprLossCoef;
    public LprLossForm LprLossForm { get; init; } = LprLossForm.Nll;

    /// <summary>
    /// First documents taken from each old-language dataset (stage 2's replay), in place of <c>MaxSamples</c> for
    /// those; <c>MaxSamples</c> when null.
    /// </summary>
    public int? ReplayMaxSamples { get; init; }

    /// <summary>
    /// The LoRA stage's adapter: rank, α, dropout and target modules (PEFT names). Its base_model_name_or_path is set
    /// by the run.
    /// </summary>
    public LoraConfig Lora { get; init; } = new();

    /// <summary>
    /// The optimiser settings. Their <see cref="TrainerOptions.Seed"/> is the run's one seed: it also seeds upcycling's
    /// router initialisation and libtorch's generator. Their masked label id and device are replaced by
    /// <see cref="ToTrainerOptions"/>, from <c>MaskEosInLabels</c> and the device, because the EOS id and the resolved
    /// device are known only once the run has loaded the tokenizer and picked the device.
    /// </summary>
    public TrainerOptions Optimization { get; init; } = new();
    public bool Resume { get; init; }

    /// <summary>
    /// The settings any run of <see cref="Stage"/> needs to agree, checked before any data is read and hashed.
    /// </summary>
    public void Validate()
    {
        if (Datasets.Count == 0) throw new ArgumentException("no dataset given (--dataset a,b,c)");
        switch (Stage)
        {
            case TrainingStage.Stage2 when AdapterDir is null:
                throw new ArgumentException(
                    "stage 2 needs --adapter: the stage-1 output folder whose routers it trains");
            case TrainingStage.Full when AdapterDir is not null:
                throw new ArgumentException("full fine-tuning trains a dense model; --adapter does not apply");
            case TrainingStage.Lora when AdapterDir is not null:
                throw new ArgumentException("LoRA training starts from the dense model; --adapter does not apply");
            case TrainingStage.Lora:
                Lora.Validate("LoRA options");
                break;
        }
        DocumentReader.RequireMaxSamples(MaxSamples);
        DocumentReader.RequireMaxSamples(ReplayMaxSamples, "--replay-max-samples");
        if (CutoffLen < 2) throw new ArgumentException($"cutoff_len must be at least 2 (got {CutoffLen})");
        MoeConfig.RequireLossWeight(AuxLossCoef, "--aux-loss-coef");
        MoeConfig.RequireLossWeight(LprLossCoef, "--lpr-loss-coef");
        Optimization.Validate();
    }

    public TrainerOptions ToTrainerOptions(int eosTokenId, TorchSharp.torch.Device device) =>
        Optimization with { MaskedLabelTokenId = MaskEosInLabels ? eosTokenId : null, Device = device };
}
