using System.Text.Json;
using System.Text.Json.Nodes;
using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// Loads what the kit and its peers write, for evaluation, routing, tasks and notebooks alike: a dense HF model
/// folder (a base, a full fine-tune, a pretrained model), a merged Mixtral folder, or a dense base with an adapter,
/// whose <c>peft_type</c> in <c>adapter_config.json</c> says which: "MOE" (upcycled in place) or "LORA" (injected).
/// </summary>
public static class ModelWithAdapter
{
    /// <param name="dtype">Weight dtype; the config's <c>torch_dtype</c> when null.</param>
    public static LoadedModel Load(string modelDir, string? adapterDir, ScalarType? dtype)
    {
        if (StringField(Path.Combine(modelDir, HfModelDirectory.ConfigFileName), "model_type") == "mixtral")
            return LoadMixtral(modelDir, adapterDir, dtype);
        var model = HfModelDirectory.Load(modelDir, dtype);
        if (adapterDir is null) return new LoadedModel(model, AdapterKind.None, null, null);
        try
        {
            if (!Directory.Exists(adapterDir))
                throw new InvalidDataException($"{adapterDir}: adapter folder not found");
            return PeftTypeOf(adapterDir) == LoraConfig.PeftTypeName
                ? new LoadedModel(model, AdapterKind.Lora, null, LoraAdapter.Load(model, adapterDir))
                : new LoadedModel(model, AdapterKind.Moe, MoeAdapter.Load(model, adapterDir), null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static LoadedModel LoadMixtral(string modelDir, string? adapterDir, ScalarType? dtype)
    {
        if (adapterDir is not null)
            throw new InvalidOperationException(
                $"{adapterDir}: {modelDir} is a merged Mixtral folder, which holds its experts; no adapter applies");
        var model = MixtralImporter.Load(modelDir, dtype);
        var block = model.MoeBlocks[0];
        var moe = new MoeConfig { NumExperts = block.NumExperts, TopK = block.TopK };
        return new LoadedModel(model, AdapterKind.Mixtral, moe, null);
    }

    /// <summary>
    /// The <c>peft_type</c> of the adapter in <paramref name="adapterDir"/>: "MOE" or "LORA"; anything else, or a
    /// missing or unreadable <c>adapter_config.json</c>, is an error naming the file.
    /// </summary>
    public static string PeftTypeOf(string adapterDir)
    {
        string path = Path.Combine(adapterDir, PeftAdapterFiles.ConfigFileName);
        var root = ConfigFile.ReadObject(path, PeftAdapterFiles.ConfigFileName);
        string? type = root["peft_type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return type is MoeConfig.PeftTypeName or LoraConfig.PeftTypeName
            ? type
            : throw new InvalidDataException($"{path}: peft_type is '{type}', expected " +
                                             $"'{MoeConfig.PeftTypeName}' or '{LoraConfig.PeftTypeName}'");
    }

    /// <summary>A string field of a JSON file, or null when it cannot be read (the loader then says why).</summary>
    static string? StringField(string path, string name)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o[name] is JsonValue v
                   && v.TryGetValue<string>(out var s) ? s : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }
}
