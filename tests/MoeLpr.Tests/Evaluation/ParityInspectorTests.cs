using MoeLpr.Checkpoints;
using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Evaluation;

public class ParityInspectorTests
{
    static readonly long[] Ids = [5, 17, 3, 96, 0, 42, 42, 7];
    static readonly bool[] OldMask = [true, true, false, false, true, false, true, false];

    /// <summary>A base model folder plus an adapter with non-trivial routers (3 experts, top-2, both layers).</summary>
    static (string Base, string Adapter) WriteModelAndAdapter(TempDirectory root)
    {
        string baseDir = Path.Combine(root.Path, "base"), adapterDir = Path.Combine(root.Path, "adapter");
        using var model = TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama, seed: 21);
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        Upcycler.Upcycle(model, moe, seed: 22);
        using (no_grad())
            foreach (var (_, p) in model.named_parameters().Where(p => p.name.Contains("moe_")))
                p.add_(randn(p.shape) * 0.5);
        MoeAdapter.Save(model, moe, adapterDir);
        return (baseDir, adapterDir);
    }

    static float[] Values(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void InspectWritesTheContractedTensors()
    {
        using var root = new TempDirectory();
        var (baseDir, adapterDir) = WriteModelAndAdapter(root);
        string output = Path.Combine(root.File("not-yet"), "parity.safetensors");   // its folder is made

        var result = CliRunner.Run("inspect", "--model", baseDir, "--adapter", adapterDir,
            "--ids", string.Join(",", Ids), "--old-mask", string.Join(",", OldMask.Select(b => b ? 1 : 0)),
            "--out", output);

        Assert.True(result.ExitCode == 0, result.Error);
        var header = SafeTensors.ReadHeader(output);
        Assert.Equal(["aux_loss", "lm_loss", "logits", "lpr_loss", "lpr_loss_reference", "router_logits"],
            header.Entries.Keys.Order());
        Assert.All(header.Entries.Values, e => Assert.Equal(ScalarType.Float32, e.DType));
        var file = SafeTensors.Load(output);
        int t = Ids.Length, v = TinyModels.Llama.VocabSize;
        Assert.Equal([t, v], file["logits"].shape);
        Assert.Equal([2, t, 3], file["router_logits"].shape);
        foreach (var name in new[] { "lm_loss", "aux_loss", "lpr_loss", "lpr_loss_reference" })
            Assert.Empty(file[name].shape);
        Assert.All(file.Values, tensor => Assert.True(tensor.isfinite().all().item<bool>()));

        // The logits are the model's: base + adapter run in-process.
        using var model = HfModelDirectory.Load(baseDir);
        MoeAdapter.Load(model, adapterDir);
        using (no_grad())
        using (var ids = tensor(Ids).unsqueeze(0))
            Assert.True(file["logits"].IsExactly(model.forward(new CausalLMInput(ids)).Logits[0]));
    }

    [Fact]
    public void LossesMatchAnIndependentRecomputationFromTheFile()
    {
        using var root = new TempDirectory();
        var (baseDir, adapterDir) = WriteModelAndAdapter(root);
        string output = root.File("parity.safetensors");
        ParityInspector.Run(baseDir, adapterDir, Ids, OldMask, output);
        var file = SafeTensors.Load(output);
        int t = Ids.Length, v = TinyModels.Llama.VocabSize;
        var logits = Values(file["logits"]);
        var router = Values(file["router_logits"]);

        // lm_loss: mean over positions 0..T-2 of -log softmax(logits_t)[ids_{t+1}], in double precision.
        double lm = Enumerable.Range(0, t - 1)
            .Average(pos => -LogSoftmax(logits.AsSpan(pos * v, v), (int)Ids[pos + 1]));
        Assert.Equal(lm, file["lm_loss"].item<float>(), 1e-5);

        // lpr_loss (−log p_0) and the released code's −p_0 + log Σ exp(p_e): mean over (layer, old token).
        var pairs = (from layer in Enumerable.Range(0, 2) from pos in Enumerable.Range(0, t) where OldMask[pos]
                     select router.AsSpan((layer * t + pos) * 3, 3).ToArray()).ToList();
        Assert.Equal(pairs.Average(r => -LogSoftmax(r, 0)), file["lpr_loss"].item<float>(), 1e-5);
        Assert.Equal(pairs.Average(r =>
        {
            var p = Softmax(r);
            return -p[0] + Math.Log(p.Sum(Math.Exp));
        }), file["lpr_loss_reference"].item<float>(), 1e-5);

        // aux_loss: per layer N · Σ_e F_e · P_e with top-2 selection, averaged over layers.
        double aux = Enumerable.Range(0, 2).Average(layer =>
        {
            var probs = Enumerable.Range(0, t)
                .Select(pos => Softmax(router.AsSpan((layer * t + pos) * 3, 3).ToArray())).ToList();
            return 3 * Enumerable.Range(0, 3).Sum(e =>
                probs.Count(p => p.Select((x, i) => (x, i)).OrderByDescending(z => z.x).Take(2).Any(z => z.i == e))
                / (double)t
                * probs.Average(p => p[e]));
        });
        Assert.Equal(aux, file["aux_loss"].item<float>(), 1e-5);
    }

    [Fact]
    public void DenseModelHasNoRouterAndZeroRoutingLosses()
    {
        using var root = new TempDirectory();
        using var _ = TinyCheckpoints.SaveDense(root.Path, TinyModels.Qwen2, seed: 2);
        string output = Path.Combine(root.Path, "dense.safetensors");

        ParityInspector.Run(root.Path, null, [1, 2, 3], null, output);

        var file = SafeTensors.Load(output);
        Assert.Equal([0, 3, 0], file["router_logits"].shape);
        Assert.Equal([3, TinyModels.Qwen2.VocabSize], file["logits"].shape);
        Assert.Equal(0f, file["aux_loss"].item<float>());
        Assert.Equal(0f, file["lpr_loss"].item<float>());
        Assert.True(file["lm_loss"].item<float>() > 0);
    }

    [Fact]
    public void TokenOutsideTheVocabularyIsAnError()
    {
        using var root = new TempDirectory();
        using var _ = TinyCheckpoints.SaveDense(root.Path, TinyModels.Llama);
        string output = Path.Combine(root.Path, "out.safetensors");

        var result = CliRunner.Run("inspect", "--model", root.Path, "--ids", "1,500", "--out", output);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --ids: token id 500 is outside the vocabulary 0..96", result.Error.Trim());
        Assert.False(File.Exists(output));
    }

    static double LogSoftmax(ReadOnlySpan<float> row, int index)
    {
        double max = double.NegativeInfinity;
        foreach (var x in row) max = Math.Max(max, x);
        double sum = 0;
        foreach (var x in row) sum += Math.Exp(x - max);
        return row[index] - max - Math.Log(sum);
    }

    static double[] Softmax(float[] row) =>
        Enumerable.Range(0, row.Length).Select(i => Math.Exp(LogSoftmax(row, i))).ToArray();
}
