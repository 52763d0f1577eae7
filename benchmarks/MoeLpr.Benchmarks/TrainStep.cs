using MoeLpr.Model;
using MoeLpr.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// One optimisation step as the library's <see cref="Trainer"/> performs it, minus its data pipeline, logging and
/// checkpoints: the stage policy freezes the model and composes the loss (stage 1: routers + new experts,
/// LM + 0.01·L_bal; stage 2: routers, LM + 0.1·L_LPR); AdamW over the trainable parameters only; global-norm
/// clipping at 1; one dispose scope per step.
/// </summary>
public sealed class TrainStep : IDisposable
{
    private readonly LlamaForCausalLM _model;
    private readonly TrainingPolicy _policy;
    private readonly AdamW _optimizer;

    public IReadOnlyList<Parameter> Trainable { get; }

    public TrainStep(LlamaForCausalLM model, MoeConfig moe, int stage)
    {
        _model = model;
        _policy = stage switch
        {
            1 => new Stage1Policy(moe),
            2 => new Stage2Policy(moe),
            _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "stage must be 1 or 2"),
        };
        model.SetTrainable(_policy.IsTrainable);
        model.zero_grad();
        model.train();
        Trainable = model.parameters().Where(p => p.requires_grad).ToList();
        _optimizer = torch.optim.AdamW(Trainable, lr: 1e-4, weight_decay: 0.0);
    }

    public static string Describe(int stage) => stage == 1
        ? "routers + new experts trainable; LM + 0.01·L_bal"
        : "routers trainable; LM + 0.1·L_LPR (half the rows old-language)";

    /// <summary>One optimisation step; returns the loss.</summary>
    public float Run(TrainingBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        var output = _model.forward(batch.ToInput());
        var loss = _policy.ComputeLoss(output, batch.OldLanguageMask).Total;
        loss.backward();
        torch.nn.utils.clip_grad_norm_(Trainable, 1.0);
        _optimizer.step();
        _optimizer.zero_grad();
        return loss.item<float>();
    }

    /// <summary>Parameters that are frozen yet hold a gradient (must be 0: frozen weights get no gradient work).</summary>
    public int FrozenParametersWithGradient() =>
        _model.parameters().Count(p => !p.requires_grad && p.grad is not null);

    public AdamW Optimizer => _optimizer;

    public void Dispose() => _optimizer.Dispose();
}
