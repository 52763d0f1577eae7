namespace MoeLpr.Training;

/// <summary>Which training a <see cref="TrainingRun"/> performs.</summary>
public enum TrainingStage
{
    /// <summary>MoE-LPR stage 1: upcycle (or continue an adapter), train new experts + routers with the balance loss.</summary>
    Stage1,
    /// <summary>MoE-LPR stage 2: continue the stage-1 adapter, train routers only with the LPR loss.</summary>
    Stage2,
    /// <summary>Every parameter, LM loss only: base-model pretraining and the full fine-tuning baseline.</summary>
    Full,
}
