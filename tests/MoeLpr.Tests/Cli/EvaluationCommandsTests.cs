using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Reporting;
using MoeLpr.Model;
using MoeLpr.Tests.Data;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Upcycling;

namespace MoeLpr.Tests.Cli;

/// <summary>routes, tasks and make-task end to end on a tiny model with the shared 600-token test tokenizer.</summary>
public class EvaluationCommandsTests
{
    static ModelConfig Config => TinyModels.Llama with
    {
        VocabSize = SmallTokenizer.Bpe.VocabSize, MaxPositionEmbeddings = 256,
    };

    /// <summary>A tiny base model and an upcycled adapter (3 experts, top-2) on disk.</summary>
    static (string Model, string Adapter) SaveModelAndAdapter(TempDirectory root)
    {
        string modelDir = Path.Combine(root.Path, "base"), adapterDir = Path.Combine(root.Path, "adapter");
        using var model = TinyCheckpoints.SaveDense(modelDir, Config, seed: 2);
        var config = new MoeConfig { NumExperts = 3, TopK = 2 };
        Upcycler.Upcycle(model, config, seed: 4);
        MoeAdapter.Save(model, config, adapterDir);
        return (modelDir, adapterDir);
    }

    [Fact]
    public void RoutesWritesTheStatisticsOfEachDataset()
    {
        using var root = new TempDirectory();
        var (modelDir, adapterDir) = SaveModelAndAdapter(root);
        string output = Path.Combine(root.Path, "routes");

        var result = CliRunner.Run("routes", "--model", modelDir, "--adapter", adapterDir, "--tokenizer",
            SmallTokenizer.Directory, "--dataset", "en_test,el_test", "--dataset-info", DataTestFiles.DatasetInfo,
            "--max_samples", "2", "--cutoff_len", "64", "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);

        var layers = File.ReadAllLines(Path.Combine(output, RoutingCsv.LayersFile));
        Assert.Equal(1 + 2 * Config.NumHiddenLayers, layers.Length);   // header + dataset × layer
        Assert.StartsWith("dataset,group,layer,", layers[0]);
        Assert.StartsWith("en_test,old,0,", layers[1]);
        Assert.StartsWith("el_test,new,1,", layers[^1]);
        Assert.StartsWith("dataset,group,layer,expert,",
            File.ReadLines(Path.Combine(output, RoutingCsv.ExpertsFile)).First());
        Assert.Equal(1 + 2 * Config.NumHiddenLayers * 3,
            File.ReadAllLines(Path.Combine(output, RoutingCsv.ExpertsFile)).Length);

        // The CSV equals the library run on the same packed blocks.
        var expected = RoutingRun.Run(new RoutingOptions
        {
            ModelDir = modelDir, AdapterDir = adapterDir, TokenizerDir = SmallTokenizer.Directory,
            Datasets = ["en_test", "el_test"], DatasetInfo = DataTestFiles.DatasetInfo, MaxSamples = 2, CutoffLen = 64,
        });
        var en0 = expected.Counts[0];
        Assert.StartsWith($"en_test,old,0,{en0.Tokens},", layers[1]);
    }

    [Fact]
    public void TasksScoresEveryLanguageAndRejectsFewShotWithoutAPool()
    {
        using var root = new TempDirectory();
        var (modelDir, adapterDir) = SaveModelAndAdapter(root);
        string task = Path.Combine(root.Path, "task.jsonl"), pool = Path.Combine(root.Path, "pool.jsonl"),
            csv = Path.Combine(root.Path, "out", "tasks.csv");
        var corpus = Path.Combine(DataTestFiles.RepoRoot, "data", "corpus");
        Assert.Equal(0, CliRunner.Run("make-task", "--corpus", corpus, "--languages", "en,el", "--items", "3",
            "--output", task).ExitCode);
        Assert.Equal(0, CliRunner.Run("make-task", "--corpus", corpus, "--languages", "en,el", "--split", "valid",
            "--items", "3", "--output", pool).ExitCode);

        var result = CliRunner.Run("tasks", "--model", modelDir, "--adapter", adapterDir, "--tokenizer",
            SmallTokenizer.Directory, "--task", task, "--num-fewshot", "1", "--fewshot-task", pool, "--output", csv);
        Assert.True(result.ExitCode == 0, result.Error);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("language,num_fewshot,items,acc,acc_stderr,acc_norm,acc_norm_stderr,acc_norm_bytes", lines[0]);
        Assert.StartsWith("en,1,3,", lines[1]);
        Assert.StartsWith("el,1,3,", lines[2]);

        // --limit scores the first items of each language: the same scores for those as in a full run of them.
        string firstTwo = Path.Combine(root.Path, "first-two.jsonl"), limitedCsv = Path.Combine(root.Path, "lim.csv");
        var seen = new Dictionary<string, int>();
        File.WriteAllLines(firstTwo, File.ReadAllLines(task).Where(line =>
        {
            var language = System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("language").GetString()!;
            return (seen[language] = seen.GetValueOrDefault(language) + 1) <= 2;
        }));
        string[] Tasks(string file, string output, params string[] more) =>
            ["tasks", "--model", modelDir, "--tokenizer", SmallTokenizer.Directory, "--task", file, "--output", output,
             .. more];
        var limited = CliRunner.Run(Tasks(task, limitedCsv, "--limit", "2"));
        var firstTwoRun = CliRunner.Run(Tasks(firstTwo, Path.Combine(root.Path, "two.csv")));
        Assert.True(limited.ExitCode == 0 && firstTwoRun.ExitCode == 0, limited.Error + firstTwoRun.Error);
        Assert.Equal(File.ReadAllLines(Path.Combine(root.Path, "two.csv")), File.ReadAllLines(limitedCsv));
        Assert.StartsWith("en,0,2,", File.ReadAllLines(limitedCsv)[1]);
        Assert.StartsWith("el,0,2,", File.ReadAllLines(limitedCsv)[2]);
        var zero = CliRunner.Run(Tasks(task, limitedCsv, "--limit", "0"));
        Assert.Equal((1, "error: --limit must be at least 1 (got 0)"), (zero.ExitCode, zero.Error.Trim()));
        // The CSV is a file: the reference scripts' folder spelling is not taken for it.
        var folderSpelling = CliRunner.Run(
            [.. Tasks(task, limitedCsv).Select(arg => arg == "--output" ? "--output_dir" : arg)]);
        Assert.Equal(1, folderSpelling.ExitCode);
        Assert.Contains("--output_dir", folderSpelling.Error);

        var missingPool = CliRunner.Run("tasks", "--model", modelDir, "--tokenizer", SmallTokenizer.Directory, "--task",
            task, "--num-fewshot", "2", "--output", csv);
        Assert.Equal(1, missingPool.ExitCode);
        Assert.StartsWith("error: --num-fewshot needs --fewshot-task", missingPool.Error);
    }

    /// <summary>routes and eval read a Mixtral export as the model it came from (base + MoE adapter).</summary>
    [Fact]
    public void MixtralExportRoutesAndEvaluatesLikeTheAdapterItCameFrom()
    {
        using var root = new TempDirectory();
        var (modelDir, adapterDir) = SaveModelAndAdapter(root);
        string mixtral = Path.Combine(root.Path, "mixtral");
        var export = CliRunner.Run("export", "--model", modelDir, "--adapter", adapterDir, "--output", mixtral);
        Assert.Equal(0, export.ExitCode);
        string[] Data(string command, params string[] more) =>
        [
            command, "--tokenizer", SmallTokenizer.Directory, "--dataset", "en_test,el_test",
            "--dataset-info", DataTestFiles.DatasetInfo, "--max_samples", "2", "--cutoff_len", "64", .. more,
        ];
        string fromAdapter = Path.Combine(root.Path, "routes-adapter");
        string fromMixtral = Path.Combine(root.Path, "routes-mixtral");

        var adapterRoutes = CliRunner.Run(Data("routes", "--model", modelDir, "--adapter", adapterDir,
                                               "--output", fromAdapter));
        var mixtralRoutes = CliRunner.Run(Data("routes", "--model", mixtral, "--output", fromMixtral));
        Assert.True(mixtralRoutes.ExitCode == 0, mixtralRoutes.Error);
        Assert.Equal(0, adapterRoutes.ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(fromAdapter, RoutingCsv.ExpertsFile)),
                     File.ReadAllText(Path.Combine(fromMixtral, RoutingCsv.ExpertsFile)));

        var adapterEval = CliRunner.Run(Data("eval", "--model", modelDir, "--adapter", adapterDir));
        var mixtralEval = CliRunner.Run(Data("eval", "--model", mixtral));
        Assert.True(mixtralEval.ExitCode == 0, mixtralEval.Error);
        // The same scores; the first line names what was loaded.
        Assert.StartsWith($"scoring {modelDir} with {adapterDir} (float32, CPU) on ", adapterEval.Output);
        Assert.StartsWith($"scoring {mixtral} (float32, CPU) on ", mixtralEval.Output);
        Assert.Equal(adapterEval.Output.Split('\n').Skip(1), mixtralEval.Output.Split('\n').Skip(1));

        var dense = CliRunner.Run(Data("routes", "--model", modelDir, "--output", Path.Combine(root.Path, "r")));
        Assert.Equal($"error: {modelDir}: a dense model has no router; routing statistics need an MoE adapter " +
                     "(--adapter) or a Mixtral folder", dense.Error.TrimEnd());
        var both = CliRunner.Run(Data("eval", "--model", mixtral, "--adapter", adapterDir));
        Assert.Equal($"error: {adapterDir}: {mixtral} is a merged Mixtral folder, which holds its experts; " +
                     "no adapter applies", both.Error.TrimEnd());
    }

    /// <summary>The three evaluators batch alike by default (eval took 4 where routes and tasks took 8).</summary>
    [Theory]
    [InlineData("eval")]
    [InlineData("routes")]
    [InlineData("tasks")]
    public void EveryEvaluatorDefaultsToTheSameBatchSize(string command)
    {
        var help = CliRunner.Run(command, "--help");
        Assert.Equal(0, help.ExitCode);
        var line = help.Output.Split('\n')
            .Single(l => l.TrimStart().StartsWith("--batch-size", StringComparison.Ordinal));
        Assert.EndsWith($"[default: {EvaluationDefaults.BatchSize}]", line.TrimEnd());
    }
}
