using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>The <c>torch_dtype</c> spellings of a HF config.json and the TorchSharp types they mean.</summary>
public static class TorchDtypeName
{
    static readonly (string Name, ScalarType Type)[] Table =
    [
        ("float32", ScalarType.Float32),
        ("float16", ScalarType.Float16),
        ("bfloat16", ScalarType.BFloat16),
        ("float64", ScalarType.Float64),
    ];

    /// <summary>Parses a torch_dtype value; <paramref name="source"/> names the file in the error.</summary>
    public static ScalarType Parse(string name, string source)
    {
        foreach (var (n, type) in Table)
            if (n == name) return type;
        throw new InvalidDataException(
            $"{source}: unsupported torch_dtype '{name}' (supported: {string.Join(", ", Table.Select(t => t.Name))})");
    }

    public static string NameOf(ScalarType type)
    {
        foreach (var (name, t) in Table)
            if (t == type) return name;
        throw new ArgumentException($"{type} is not a model weight dtype", nameof(type));
    }
}
