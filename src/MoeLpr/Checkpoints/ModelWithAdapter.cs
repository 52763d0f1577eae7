using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>Loads a dense HF base model and, when given, an MoE adapter on top of it (upcycled in place).</summary>
public static class ModelWithAdapter
{
    /// <returns>The model and the adapter's config (null for a dense model).</returns>
    public static (LlamaForCausalLM Model, MoeConfig? Adapter) Load(string modelDir, string? adapterDir,
        ScalarType? dtype)
    {
        var model = HfModelDirectory.Load(modelDir, dtype);
        if (adapterDir is null) return (model, null);
        try
        {
            if (!Directory.Exists(adapterDir))
                throw new InvalidDataException($"{adapterDir}: adapter folder not found");
            var config = MoeAdapter.Load(model, adapterDir);
            return (model, config);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
