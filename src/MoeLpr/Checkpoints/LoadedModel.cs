using MoeLpr.Model;

namespace MoeLpr.Checkpoints;

/// <summary>
/// A model as <see cref="ModelWithAdapter.Load"/> returns it, with the config of whatever it carries. Deconstructs
/// into <c>(model, moeConfig)</c>, the common case: <c>var (model, config) = ModelWithAdapter.Load(...)</c>.
/// </summary>
/// <param name="Moe">The MoE adapter's config, or the experts and top-K of a Mixtral folder; else null.</param>
/// <param name="Lora">The LoRA adapter's config; else null.</param>
public sealed record LoadedModel(LlamaForCausalLM Model, AdapterKind Kind, MoeConfig? Moe, LoraConfig? Lora)
{
    public void Deconstruct(out LlamaForCausalLM model, out MoeConfig? moe) => (model, moe) = (Model, Moe);
}
