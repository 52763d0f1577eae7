using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Training;

namespace MoeLpr.Demo;

/// <summary>Everything the demo measured, for the results files and the HTML report.</summary>
/// <param name="Stage1Tokens">Tokens each stage-1-sized run processed (stage 1, full fine-tuning, LoRA).</param>
/// <param name="ReplayTokens">Distinct old-language tokens in the stage-2 data.</param>
/// <param name="Routing">Routing statistics on the test blocks, keyed "moe_stage1" / "moe_lpr".</param>
/// <param name="Traces">Token-level routing of sample sentences, keyed "{variant}/{language}".</param>
/// <param name="Stage1">The stage-1 policy the demo trained with (its adapter config holds the balance-loss
/// weight).</param>
/// <param name="Stage2">The stage-2 policy (LPR weight and form).</param>
/// <param name="Lora">The LoRA baseline's configuration.</param>
public sealed record DemoResult(
    DemoOptions Options,
    Stage1Policy Stage1,
    Stage2Policy Stage2,
    LoraConfig Lora,
    IReadOnlyList<DemoVariant> Variants,
    long Stage1Tokens,
    long Stage2Tokens,
    long Stage2OldTokens,
    long ReplayTokens,
    IReadOnlyDictionary<string, RoutingStatistics> Routing,
    IReadOnlyDictionary<string, TokenRoutingTrace> Traces,
    IReadOnlyList<DemoPhase> Phases,
    TimeSpan WallTime,
    string Machine)
{
    /// <summary>Distinct replay tokens as a share of the stage-1 tokens (the paper: under 1 %).</summary>
    public double ReplayFraction => (double)ReplayTokens / Stage1Tokens;

    public DemoVariant this[string key] => Variants.First(v => v.Key == key);
}

/// <summary>One timed step of the demo (data, evaluation of base, each training run, report).</summary>
public sealed record DemoPhase(string Name, TimeSpan WallTime);
