using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using MoeLpr.Checkpoints;
using MoeLpr.Model;
using TorchSharp;
using TorchSharp.Modules;

namespace MoeLpr.Training;

/// <summary>
/// A resumable checkpoint folder <c>checkpoint-{step}</c>: the policy's weights (PEFT adapter or HF model folder),
/// <c>optimizer.bin</c> (TorchSharp's AdamW state: step counts and both moments, bit-exact), in a bfloat16 or float16
/// run <c>master_weights.safetensors</c> (the float32 weights AdamW updates, keyed by parameter index),
/// <c>rng_state.bin</c> (libtorch's default generator) and <c>trainer_state.json</c>. Written in a staging folder and
/// renamed into place, so a crash mid-write never leaves a checkpoint that looks complete.
/// </summary>
internal static partial class TrainingCheckpoint
{
    public const string OptimizerFileName = "optimizer.bin";
    public const string MasterWeightsFileName = "master_weights.safetensors";
    public const string RngFileName = "rng_state.bin";

    [GeneratedRegex(@"^checkpoint-(\d{1,9})$")]   // a step count fits an int
    private static partial Regex CheckpointName();

    public static string PathFor(string outputDir, int step) => Path.Combine(outputDir, $"checkpoint-{step}");

    public static void Save(string dir, LlamaForCausalLM model, TrainingPolicy policy, MultiTensorAdamW optimizer,
        TrainerState state)
    {
        AtomicDirectory.Write(dir, staging =>
        {
            policy.SaveWeights(model, staging);
            optimizer.Optimizer.save_state_dict(Path.Combine(staging, OptimizerFileName));
            if (optimizer.MasterWeights() is { Count: > 0 } masters)
                SafeTensors.Save(Path.Combine(staging, MasterWeightsFileName), masters);
            using (var rng = torch.get_rng_state())
                File.WriteAllBytes(Path.Combine(staging, RngFileName), rng.bytes.ToArray());
            state.Save(Path.Combine(staging, TrainerState.FileName)); // last: its presence marks a complete folder
        });
    }

    /// <summary>
    /// Loads weights, optimizer (its masters included) and RNG state from <paramref name="dir"/>; its trainer state the
    /// caller reads first, to check the checkpoint is this run's before anything is loaded.
    /// </summary>
    public static void Restore(string dir, LlamaForCausalLM model, TrainingPolicy policy, MultiTensorAdamW optimizer)
    {
        policy.LoadWeights(model, dir);
        string optimizerPath = Path.Combine(dir, OptimizerFileName);
        if (!File.Exists(optimizerPath)) throw new InvalidDataException($"{optimizerPath}: optimizer state not found");
        try
        {
            optimizer.Optimizer.load_state_dict(optimizerPath);
        }
        catch (Exception e) when (e is IOException or ArgumentException or ExternalException)
        {
            throw new InvalidDataException($"{optimizerPath}: not this run's optimizer state ({e.Message})", e);
        }
        string mastersPath = Path.Combine(dir, MasterWeightsFileName);
        using (torch.NewDisposeScope())
            optimizer.RestoreMasterWeights(File.Exists(mastersPath) ? SafeTensors.Load(mastersPath) : null,
                mastersPath);
        string rngPath = Path.Combine(dir, RngFileName);
        if (!File.Exists(rngPath)) throw new InvalidDataException($"{rngPath}: RNG state not found");
        var bytes = File.ReadAllBytes(rngPath);
        using (var current = torch.get_rng_state())
            if (bytes.Length != current.numel())   // libtorch would abort the process
                throw new InvalidDataException(
                    $"{rngPath}: {bytes.Length} bytes, where libtorch's generator state has {current.numel()}");
        using var rng = torch.tensor(bytes, dtype: torch.ScalarType.Byte);
        torch.set_rng_state(rng);
    }

    /// <summary>The complete checkpoint with the highest step in <paramref name="outputDir"/>, or null.</summary>
    public static string? FindLatest(string outputDir)
    {
        if (!Directory.Exists(outputDir)) return null;
        return Directory.GetDirectories(outputDir)
            .Select(d => (dir: d, match: CheckpointName().Match(Path.GetFileName(d))))
            .Where(x => x.match.Success && File.Exists(Path.Combine(x.dir, TrainerState.FileName)))
            .OrderByDescending(x => int.Parse(x.match.Groups[1].Value))
            .Select(x => x.dir)
            .FirstOrDefault();
    }
}
