using System.Collections.Concurrent;
using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Notebooks;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using TorchSharp;

namespace MoeLpr.Tests.Notebooks;

/// <summary>
/// The kit's teaching notebooks (<c>notebooks/*.ipynb</c>) and what the tests run them with: a tiny random base model
/// that uses the shipped tokenizer (so every cell runs on real text in seconds), reduced sizes for every
/// <c>NotebookParameters.Get</c> the notebooks read, and each notebook's run in Jupyter's kernel and with
/// <c>moelpr notebook run</c>, made once and shared by the tests that look at them.
/// </summary>
public sealed class KitNotebooks : IDisposable
{
    public static readonly string[] Expected =
        ["00-quick-tour.ipynb", "01-upcycling.ipynb", "02-stage1.ipynb", "03-stage2-lpr.ipynb",
            "04-routing-by-language.ipynb"];

    public static string Folder => KitDirectory.Path("notebooks");

    public static IEnumerable<object[]> Names() =>
        Directory.GetFiles(Folder, "*.ipynb")
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    readonly ConcurrentDictionary<string, Lazy<NotebookRuns.Result>> _runs = new();

    public string WorkFolder { get; } = Directory.CreateTempSubdirectory("moelpr-kit-notebooks-").FullName;

    public string BaseModel { get; }

    public KitNotebooks()
    {
        BaseModel = Path.Combine(WorkFolder, "tiny-base-model");
        var config = new ModelConfig
        {
            ModelType = "llama", VocabSize = 8000, HiddenSize = 16, IntermediateSize = 24, NumHiddenLayers = 2,
            NumAttentionHeads = 2, NumKeyValueHeads = 1, TieWordEmbeddings = true, MaxPositionEmbeddings = 256,
        };
        using (var model = new LlamaForCausalLM(config))
        {
            using (torch.no_grad()) TinyModels.Randomize(model, seed: 7);
            HfModelDirectory.Save(model, BaseModel);
        }
        foreach (var file in Directory.GetFiles(KitDirectory.Path("data/tokenizer")))
            File.Copy(file, Path.Combine(BaseModel, Path.GetFileName(file)));
    }

    /// <summary>Reduced sizes: a few optimizer steps, a couple of documents, 16-token blocks.</summary>
    public IReadOnlyDictionary<string, string> ParametersFor(string notebook) => new Dictionary<string, string>
    {
        ["base_model"] = BaseModel,
        ["work_dir"] = Path.Combine(WorkFolder, "work", Path.GetFileNameWithoutExtension(notebook)),
        ["new_tokens"] = "3",
        ["sample_length"] = "16",
        ["stage1_steps"] = "2",
        ["stage2_steps"] = "2",
        ["batch_size"] = "2",
        ["cutoff_len"] = "16",
        ["train_samples"] = "2",
        ["replay_samples"] = "2",
        ["eval_samples"] = "1",
    };

    /// <summary>The notebook run in Jupyter's .net-csharp kernel at reduced size (once per test run).</summary>
    public NotebookRuns.Result InJupyter(string notebook) => Run("jupyter", notebook, NotebookRuns.Jupyter);

    /// <summary>The notebook run by <c>moelpr notebook run</c> at reduced size (once per test run).</summary>
    public NotebookRuns.Result WithMoelpr(string notebook) => Run("moelpr", notebook,
        (path, output, parameters) => NotebookRuns.Moelpr(path, output, parameters));

    NotebookRuns.Result Run(string runner, string notebook,
                            Func<string, string, IReadOnlyDictionary<string, string>, NotebookRuns.Result> run) =>
        _runs.GetOrAdd($"{runner}/{notebook}", _ => new Lazy<NotebookRuns.Result>(() =>
            run(Path.Combine(Folder, notebook), Path.Combine(WorkFolder, runner), ParametersFor(notebook)))).Value;

    public void Dispose()
    {
        try { Directory.Delete(WorkFolder, recursive: true); }
        catch (IOException) { } // a file still open elsewhere: the OS temp cleaner gets it
    }
}
