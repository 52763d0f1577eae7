using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Training.Losses;
using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>
/// The parity hook behind <c>moelpr inspect</c>: runs one sequence through a model and writes, as float32 safetensors,
/// <c>logits</c> [T, V], <c>router_logits</c> [L_moe, T, N] and the 0-d losses <c>lm_loss</c> (next-token
/// cross-entropy over the sequence), <c>aux_loss</c> (load balancing, unweighted), <c>lpr_loss</c> (−log p_0 form)
/// and <c>lpr_loss_reference</c> (the released code's form), so a PyTorch implementation can be compared tensor by
/// tensor. A dense model has no router: <c>router_logits</c> is [0, T, 0] and the routing losses are 0.
/// </summary>
public static class ParityInspector
{
    /// <summary>
    /// Loads the base model (and adapter when given), inspects <paramref name="ids"/> and writes
    /// <paramref name="outPath"/>.
    /// </summary>
    public static void Run(string modelDir, string? adapterDir, IReadOnlyList<long> ids,
        IReadOnlyList<bool>? oldLanguageMask, string outPath)
    {
        using var model = ModelWithAdapter.Load(modelDir, adapterDir, dtype: null).Model;
        var tensors = Inspect(model, ids, oldLanguageMask);
        try
        {
            var metadata = new Dictionary<string, string>
            {
                ["model"] = modelDir,
                ["ids"] = string.Join(",", ids),
            };
            if (adapterDir is not null) metadata["adapter"] = adapterDir;
            SafeTensors.Save(outPath, tensors, metadata);
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// The contracted tensors for one sequence (no mask: every token is new-language, so both LPR losses are 0).
    /// </summary>
    public static Dictionary<string, Tensor> Inspect(LlamaForCausalLM model, IReadOnlyList<long> ids,
        IReadOnlyList<bool>? oldLanguageMask = null)
    {
        if (ids.Count < 2)
            throw new ArgumentException("--ids: need at least two token ids (the LM loss predicts each next token)");
        long vocab = model.Config.VocabSize;
        foreach (var id in ids)
            if (id < 0 || id >= vocab)
                throw new ArgumentException($"--ids: token id {id} is outside the vocabulary 0..{vocab - 1}");
        if (oldLanguageMask is not null && oldLanguageMask.Count != ids.Count)
            throw new ArgumentException($"--old-mask: has {oldLanguageMask.Count} flags for {ids.Count} token ids");

        using var scope = NewDisposeScope();
        using var _ = EvaluationMode.Enter(model);
        var inputIds = tensor(ids.ToArray(), dtype: ScalarType.Int64).unsqueeze(0);
        var mask = tensor((oldLanguageMask ?? new bool[ids.Count]).ToArray()).unsqueeze(0);
        var output = model.forward(new CausalLMInput(inputIds, inputIds, mask));

        var routerLogits = output.RouterLogits;
        Tensor stacked, aux, lpr, lprReference;
        if (routerLogits.Count == 0)
        {
            stacked = zeros(0, ids.Count, 0);
            aux = lpr = lprReference = zeros([]);
        }
        else
        {
            var block = model.MoeBlocks[0];
            stacked = stack(routerLogits.ToArray());
            aux = LoadBalancingLoss.Compute(routerLogits, block.NumExperts, block.TopK);
            lpr = LprLoss.Compute(routerLogits, mask, LprLossForm.Nll);
            lprReference = LprLoss.Compute(routerLogits, mask, LprLossForm.Reference);
        }

        var result = new Dictionary<string, Tensor>
        {
            ["logits"] = output.Logits[0],
            ["router_logits"] = stacked,
            ["lm_loss"] = output.LmLoss!,
            ["aux_loss"] = aux,
            ["lpr_loss"] = lpr,
            ["lpr_loss_reference"] = lprReference,
        };
        return result.ToDictionary(p => p.Key,
            p => p.Value.to_type(ScalarType.Float32).contiguous().MoveToOuterDisposeScope());
    }
}
