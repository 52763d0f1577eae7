namespace MoeLpr.Checkpoints;

/// <summary>What a model folder and the adapter on it turned out to be (<see cref="ModelWithAdapter.Load"/>).</summary>
public enum AdapterKind
{
    /// <summary>A dense HF model folder, no adapter.</summary>
    None,
    /// <summary>A dense base with a PEFT "MOE" adapter (upcycled in place).</summary>
    Moe,
    /// <summary>A dense base with a PEFT "LORA" adapter.</summary>
    Lora,
    /// <summary>A merged Mixtral folder (<see cref="MixtralExporter"/>'s output, or transformers').</summary>
    Mixtral,
}
