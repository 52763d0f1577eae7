using MoeLpr.Model;
using MoeLpr.Training.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// The minimal MoE-LPR training step the benchmark times (the library's trainer had not landed when this was
/// written): freeze per stage, AdamW over the trainable parameters only, one dispose scope per step.
/// Stage 1: routers + new experts, loss = LM + aux·L_bal. Stage 2: routers only, loss = LM + lpr·L_LPR.
/// </summary>
public sealed class TrainStep : IDisposable
{
    private readonly LlamaForCausalLM _model;
    private readonly MoeConfig _moe;
    private readonly int _stage;
    private readonly AdamW _optimizer;

    public IReadOnlyList<Parameter> Trainable { get; }

    public TrainStep(LlamaForCausalLM model, MoeConfig moe, int stage)
    {
        if (stage is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(stage), stage, "stage must be 1 or 2");
        _model = model;
        _moe = moe;
        _stage = stage;
        var marker = stage == 1 ? "moe_" : "moe_router_embedding";
        model.SetTrainable(name => name.Contains(marker));
        model.zero_grad();
        model.train();
        Trainable = model.parameters().Where(p => p.requires_grad).ToList();
        _optimizer = torch.optim.AdamW(Trainable, lr: 1e-4, weight_decay: 0.0);
    }

    /// <summary>Stage 1 trains names containing "moe_", stage 2 those containing "moe_router_embedding".</summary>
    public static string Describe(int stage) => stage == 1
        ? "routers + new experts trainable; LM + aux_loss_coef·L_bal"
        : "routers trainable; LM + lpr_loss_coef·L_LPR (half the rows old-language)";

    /// <summary>One optimisation step; returns the loss.</summary>
    public float Run(TrainingBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        var output = _model.forward(batch.ToInput());
        var loss = _stage == 1
            ? output.LmLoss! + _moe.AuxLossCoef!.Value * LoadBalancingLoss.Compute(output.RouterLogits, _moe.NumExperts, _moe.TopK)
            : output.LmLoss! + _moe.LprLossCoef!.Value * LprLoss.Compute(output.RouterLogits, batch.OldLanguageMask, LprLossForm.Nll);
        _optimizer.zero_grad();
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }

    /// <summary>Parameters that are frozen yet hold a gradient (must be 0: frozen weights get no gradient work).</summary>
    public int FrozenParametersWithGradient() =>
        _model.parameters().Count(p => !p.requires_grad && p.grad is not null);

    public AdamW Optimizer => _optimizer;

    public void Dispose() => _optimizer.Dispose();
}
