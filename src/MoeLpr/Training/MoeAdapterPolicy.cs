using MoeLpr.Checkpoints;
using MoeLpr.Model;

namespace MoeLpr.Training;

/// <summary>
/// The two MoE-LPR stages share their output: the PEFT "MOE" adapter (routers + experts 1..N-1) written by
/// <see cref="MoeAdapter"/>; the frozen base, expert 0 included, is never saved.
/// </summary>
public abstract class MoeAdapterPolicy : TrainingPolicy
{
    /// <summary>The adapter config written with the weights (carries this stage's loss coefficients).</summary>
    public MoeConfig AdapterConfig { get; }

    protected MoeAdapterPolicy(MoeConfig adapterConfig)
    {
        adapterConfig.Validate("adapter config");
        AdapterConfig = adapterConfig;
    }

    public override void SaveWeights(LlamaForCausalLM model, string dir) => MoeAdapter.Save(model, AdapterConfig, dir);

    public override void LoadWeights(LlamaForCausalLM model, string dir)
    {
        StateDictLoader.Load(MoeAdapter.Targets(model),
            SafeTensorsCheckpoint.Open(dir, PeftAdapterFiles.WeightsFileName));
    }

    protected static void RequireMoe(CausalLMOutput output, string stage)
    {
        if (output.RouterLogits.Count == 0)
            throw new InvalidOperationException($"{stage} needs an upcycled model, but the model has no MoE layer");
    }
}
