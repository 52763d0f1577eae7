using MoeLpr.Model;
using MoeLpr.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>The largest |grouped − loop| of one kind of tensor in a stage, beside the largest |loop|.</summary>
public sealed record TensorAgreement(string Stage, string Tensor, double MaxAbsDifference, double MaxAbsLoop)
{
    public double Relative => MaxAbsDifference / MaxAbsLoop;
}

public sealed record DispatchAgreementResult(string DType, long Tokens, int NumExperts, int TopK, int GroupedPasses,
    IReadOnlyList<TensorAgreement> Tensors);

/// <summary>
/// The grouped experts against the per-expert loop on the run's device and dtype, before anything is timed: the
/// parity tests cover the CPU, where _grouped_mm is libtorch's fallback, and this covers the kernels a GPU runs.
/// One block of the run's layer size whose experts all differ (identical upcycled copies would hide a mis-paired
/// expert or weight), on the same tokens and output gradient, with what trains in each stage: stage 1 (expert 0
/// frozen, so the grouped autograd function runs) and stage 2 (every expert frozen, so TorchScript differentiates the
/// grouped SwiGLU for the input gradient). The grouped pass runs several times and the largest difference of any
/// counts: the grouped SwiGLU is TorchScript, whose executor profiles a function's first call and runs an optimised
/// graph from the second on (on CUDA it may fuse element-wise operations there, which changes bfloat16 rounding), and
/// training runs that graph.
/// </summary>
public static class DispatchAgreement
{
    public const int GroupedPasses = 3;

    public static DispatchAgreementResult Run(ModelConfig config, MoeConfig moe, long batch, long seqLen,
        Device device, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(13);
        var experts = Enumerable.Range(0, moe.NumExperts)
            .Select(_ => new LlamaMLP(config.HiddenSize, config.IntermediateSize, dtype)).ToList();
        experts.ForEach(e => e.to(device));
        var block = new MoeBlock(experts[0], experts.Skip(1).ToList(), moe.TopK);
        using (torch.no_grad()) nn.init.xavier_normal_(block.RouterWeight);

        using var generator = new Generator(17);
        var x = torch.randn([batch, seqLen, config.HiddenSize], generator: generator).to(dtype, device);
        var gradOut = torch.randn([batch, seqLen, config.HiddenSize], generator: generator).to(dtype, device);
        TrainingPolicy[] stages = [new Stage1Policy(moe), new Stage2Policy(moe)];
        var tensors = stages.SelectMany(stage => Agreement(block, stage, x, gradOut)).ToList();
        return new DispatchAgreementResult(dtype.ToString(), batch * seqLen, moe.NumExperts, moe.TopK, GroupedPasses,
            tensors);
    }

    static IEnumerable<TensorAgreement> Agreement(MoeBlock block, TrainingPolicy stage, Tensor x, Tensor gradOut)
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (name, p) in block.named_parameters()) p.requires_grad = stage.IsTrainable(name);
        var loop = ForwardBackward(block, ExpertDispatch.Loop, x, gradOut);
        var largest = loop.Keys.ToDictionary(kind => kind, _ => 0.0);
        for (int pass = 0; pass < GroupedPasses; pass++)
        {
            using var passScope = torch.NewDisposeScope();
            var grouped = ForwardBackward(block, ExpertDispatch.Grouped, x, gradOut);
            foreach (var kind in loop.Keys)
                largest[kind] = Math.Max(largest[kind], (grouped[kind] - loop[kind]).abs().max().ToDouble());
        }
        return loop.Keys.Select(kind =>
            new TensorAgreement(stage.Name, kind, largest[kind], loop[kind].abs().max().ToDouble())).ToList();
    }

    /// <summary>
    /// Output, input gradient, router gradient and, where they train, the new experts' gradients (flattened), in
    /// float32.
    /// </summary>
    static Dictionary<string, Tensor> ForwardBackward(MoeBlock block, ExpertDispatch dispatch, Tensor x,
        Tensor gradOut)
    {
        block.Dispatch = dispatch;
        block.zero_grad();
        var input = x.detach().requires_grad_(true);
        var output = block.forward(input).HiddenStates;
        torch.autograd.backward([output], [gradOut]);
        var trained = block.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        Tensor Gradients(string module) => torch.cat(trained.Where(p => p.name.Contains(module))
            .Select(p => p.parameter.grad!.flatten()).ToList()).to_type(ScalarType.Float32);
        var tensors = new Dictionary<string, Tensor>
        {
            ["output"] = output.detach().to_type(ScalarType.Float32),
            ["input gradient"] = input.grad!.to_type(ScalarType.Float32),
            ["router gradient"] = Gradients("moe_router"),
        };
        if (trained.Any(p => p.name.Contains("moe_experts")))
            tensors["new experts' gradients"] = Gradients("moe_experts");
        return tensors;
    }
}
