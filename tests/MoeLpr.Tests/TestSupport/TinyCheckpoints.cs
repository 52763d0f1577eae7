using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using static TorchSharp.torch;

namespace MoeLpr.Tests.TestSupport;

/// <summary>
/// Tiny HF model folders on disk for checkpoint, CLI and end-to-end tests: a seeded random model (the configs and
/// weights of <see cref="TinyModels"/>) saved with <see cref="HfModelDirectory.Save"/>.
/// </summary>
internal static class TinyCheckpoints
{
    /// <summary>
    /// Saves a seeded random dense model of <paramref name="config"/> into <paramref name="dir"/> and returns it.
    /// </summary>
    public static LlamaForCausalLM SaveDense(string dir, ModelConfig config, long seed = 1,
                                             ScalarType dtype = ScalarType.Float32, long? maxShardBytes = null)
    {
        var model = TinyModels.Create(config, seed, dtype);
        HfModelDirectory.Save(model, dir, maxShardBytes);
        return model;
    }

    /// <summary>
    /// Every state-dict entry of <paramref name="a"/> equals <paramref name="b"/>'s bit for bit (same keys, dtypes,
    /// shapes).
    /// </summary>
    public static void AssertSameWeights(nn.Module a, nn.Module b)
    {
        var left = a.state_dict();
        var right = b.state_dict();
        Assert.Equal(left.Keys.Order(), right.Keys.Order());
        foreach (var (key, tensor) in left)
        {
            Assert.True(tensor.dtype == right[key].dtype, $"{key}: {tensor.dtype} vs {right[key].dtype}");
            Assert.Equal(tensor.shape, right[key].shape);
            Assert.True(BytesOf(tensor).SequenceEqual(BytesOf(right[key])), $"{key} differs");
        }
    }

    public static byte[] BytesOf(Tensor tensor) => tensor.detach().contiguous().bytes.ToArray();

    /// <summary>The byte contents of every file in a folder, by file name.</summary>
    public static Dictionary<string, byte[]> Files(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
}
