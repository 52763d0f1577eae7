using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// Copies checkpoint tensors into a model's parameters strictly: every expected key present, no unknown key, every
/// shape equal. All checks run on the headers before any data is read; each failure is one line naming the file.
/// Values are converted to each parameter's dtype on copy.
/// </summary>
internal static class StateDictLoader
{
    const int KeysShown = 5;

    /// <param name="targets">Checkpoint key → the model tensor that receives it.</param>
    /// <param name="checkpoint">The files to read.</param>
    /// <param name="ignored">Checkpoint keys that may be present without a target (e.g. a tied
    /// <c>lm_head.weight</c>).</param>
    public static void Load(IReadOnlyDictionary<string, Tensor> targets, SafeTensorsCheckpoint checkpoint,
        IReadOnlySet<string>? ignored = null)
    {
        Check(targets, checkpoint, ignored);
        using var _ = no_grad();
        foreach (var group in targets.GroupBy(t => checkpoint.Tensors[t.Key].File.Path))
        {
            using var stream = File.OpenRead(group.Key);
            foreach (var (key, target) in group)
            {
                var location = checkpoint.Tensors[key];
                using var values = SafeTensors.ReadTensor(stream, location.File, location.Entry);
                target.copy_(values);
            }
        }
    }

    /// <summary>The key-set and shape checks of <see cref="Load"/>, without reading data.</summary>
    public static void Check(IReadOnlyDictionary<string, Tensor> targets, SafeTensorsCheckpoint checkpoint,
        IReadOnlySet<string>? ignored = null)
    {
        var missing = targets.Keys.Where(k => !checkpoint.Tensors.ContainsKey(k))
            .Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{checkpoint.Source}: missing keys {Summarise(missing)}");
        var unexpected = checkpoint.Tensors.Keys
            .Where(k => !targets.ContainsKey(k) && ignored?.Contains(k) != true).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException($"{checkpoint.Source}: unexpected keys {Summarise(unexpected)}");
        foreach (var (key, target) in targets)
        {
            var location = checkpoint.Tensors[key];
            if (!location.Entry.Shape.SequenceEqual(target.shape))
                throw new InvalidDataException(
                    $"{location.File.Path}: tensor '{key}' has shape {Format(location.Entry.Shape)} but the config " +
                    $"implies {Format(target.shape)}");
        }
    }

    static string Summarise(List<string> keys) =>
        string.Join(", ", keys.Take(KeysShown).Select(k => $"'{k}'")) +
        (keys.Count > KeysShown ? $" and {keys.Count - KeysShown} more" : "");

    static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
