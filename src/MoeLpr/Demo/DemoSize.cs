namespace MoeLpr.Demo;

/// <summary>
/// How much the demo trains and evaluates. Every training run (full fine-tuning, LoRA, MoE stage 1) sees the same
/// new-language blocks in the same order: <see cref="Stage1Steps"/> × <see cref="BatchSize"/> blocks of
/// <see cref="CutoffLen"/> tokens. Stage 2 trains the routers on the first <see cref="Stage2NewDocuments"/> pages of
/// each new language plus a replay of the first <see cref="ReplayDocuments"/> pages of each old language.
/// </summary>
public sealed record DemoSize
{
    public required string Name { get; init; }
    public int CutoffLen { get; init; } = 128;
    public int BatchSize { get; init; } = 8;
    /// <summary>Pages read from each new-language train file for stage 1 and the baselines (all when null).</summary>
    public int? TrainDocuments { get; init; }
    public int Stage1Steps { get; init; } = 300;
    public int WarmupSteps { get; init; } = 30;
    /// <summary>Peak learning rate of stage 1 and of both baselines (cosine to 0).</summary>
    public double LearningRate { get; init; } = 1e-3;
    public int Stage2Steps { get; init; } = 600;
    public double Stage2LearningRate { get; init; } = 5e-3;
    public int Stage2NewDocuments { get; init; } = 12;
    public int ReplayDocuments { get; init; } = 8;
    /// <summary>Pages of each test file scored (all when null).</summary>
    public int? EvalDocuments { get; init; }
    /// <summary>
    /// Next-sentence multiple-choice items scored per language (the first ones of the task file; all when null).
    /// </summary>
    public int? TaskItemsPerLanguage { get; init; } = 30;
    /// <summary>Blocks per language used for the routing statistics.</summary>
    public int RoutingBlocks { get; init; } = 16;
    /// <summary>Tokens shown in the token-level routing view of each sample sentence.</summary>
    public int TraceTokens { get; init; } = 28;
    public int LoraRank { get; init; } = 8;
    public int LoraAlpha { get; init; } = 16;
    public int LoggingSteps { get; init; } = 10;

    /// <summary>The committed results (docs/results): minutes on two CPU cores.</summary>
    public static DemoSize Default { get; } = new() { Name = "default", EvalDocuments = 25 };

    /// <summary>
    /// <c>--quick</c>: the whole pipeline in well under two minutes; numbers show the plumbing, not the method.
    /// </summary>
    public static DemoSize Quick { get; } = new()
    {
        Name = "quick", CutoffLen = 64, BatchSize = 4, TrainDocuments = 20, Stage1Steps = 20, WarmupSteps = 2,
        Stage2Steps = 8, Stage2NewDocuments = 3, ReplayDocuments = 1, Stage2LearningRate = 2e-3, EvalDocuments = 4,
        RoutingBlocks = 4, LoggingSteps = 5, TaskItemsPerLanguage = 2,
    };
}
