using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeLpr.Training;

/// <summary>
/// <c>trainer_state.json</c>: where a run stands. Together with the weights and the optimizer file of a checkpoint it
/// is everything a resumed run needs: the data position is (epoch, next micro-batch of that epoch's order), and the
/// order itself is <see cref="BatchPlan.BlockOrder"/>(seed, epoch, blocks). The remaining fields describe the run so a
/// resume with different settings is refused instead of silently training something else.
/// </summary>
public sealed record TrainerState
{
    public const string FileName = "trainer_state.json";

    [JsonPropertyName("policy")] public string Policy { get; init; } = "";
    [JsonPropertyName("global_step")] public int GlobalStep { get; init; }
    [JsonPropertyName("planned_steps")] public int PlannedSteps { get; init; }
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    [JsonPropertyName("micro_batch_in_epoch")] public int MicroBatchInEpoch { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; }
    [JsonPropertyName("blocks")] public int Blocks { get; init; }
    [JsonPropertyName("cutoff_len")] public int CutoffLen { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; }
    [JsonPropertyName("gradient_accumulation_steps")] public int GradientAccumulationSteps { get; init; }
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; }
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; }
    /// <summary>Null in checkpoints written before it was recorded.</summary>
    [JsonPropertyName("max_grad_norm")] public double? MaxGradNorm { get; init; }
    /// <summary>The policy's <see cref="TrainingPolicy.LossSettings"/>; null in older checkpoints.</summary>
    [JsonPropertyName("loss_settings")] public string? LossSettings { get; init; }
    [JsonPropertyName("elapsed_s")] public double ElapsedSeconds { get; init; }
    [JsonPropertyName("completed")] public bool Completed { get; init; }

    static readonly TrainingJson Json = new(new JsonSerializerOptions { WriteIndented = true });

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json.TrainerState));

    /// <summary>
    /// Throws when <paramref name="outputDir"/> holds a finished run (its <see cref="FileName"/>), which a new run or a
    /// fresh upcycle writing there would silently replace.
    /// </summary>
    public static void RequireNoFinishedRun(string outputDir)
    {
        if (File.Exists(Path.Combine(outputDir, FileName)))
            throw new InvalidOperationException(
                $"{outputDir}: already holds a finished run ({FileName}); choose a new output folder");
    }

    public static TrainerState Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: trainer state not found");
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), Json.TrainerState)
                ?? throw new InvalidDataException($"{path}: empty trainer state");
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid trainer state ({e.Message})"); }
    }

    /// <summary>
    /// Refuses to resume <paramref name="checkpoint"/> under settings that would make a different run.
    /// </summary>
    public void RequireSameRun(TrainerState checkpoint, string path)
    {
        void Same<T>(string what, T saved, T now)
        {
            if (!EqualityComparer<T>.Default.Equals(saved, now))
                throw new InvalidDataException($"{path}: the checkpoint was made with {what} {saved}, " +
                                               $"this run has {now}; resume with the same settings");
        }
        Same("policy", checkpoint.Policy, Policy);
        Same("planned steps", checkpoint.PlannedSteps, PlannedSteps);
        Same("seed", checkpoint.Seed, Seed);
        Same("blocks", checkpoint.Blocks, Blocks);
        Same("cutoff_len", checkpoint.CutoffLen, CutoffLen);
        Same("batch size", checkpoint.BatchSize, BatchSize);
        Same("gradient accumulation steps", checkpoint.GradientAccumulationSteps, GradientAccumulationSteps);
        Same("learning rate", checkpoint.LearningRate, LearningRate);
        Same("warmup steps", checkpoint.WarmupSteps, WarmupSteps);
        if (checkpoint.MaxGradNorm is not null) Same("max grad norm", checkpoint.MaxGradNorm, MaxGradNorm);
        if (checkpoint.LossSettings is not null)
            Same("loss settings", $"'{checkpoint.LossSettings}'", $"'{LossSettings}'");
    }
}
