using MoeLpr.Data;
using MoeLpr.Devices;
using static TorchSharp.torch;

namespace MoeLpr.Runs;

/// <summary>
/// How every run starts (training, evaluation, routing statistics, pretraining, the demo): libtorch's threads and the
/// device, the tokenizer and the dataset registry; then datasets are loaded and packed the one way training packs them
/// (no BOS, EOS after every document, <c>cutoff_len</c> blocks, a language flag per token).
/// </summary>
public sealed class RunSetup
{
    RunSetup(Device device, LoadedTokenizer tokenizer, DatasetRegistry registry) =>
        (Device, Tokenizer, Registry) = (device, tokenizer, registry);

    public Device Device { get; }

    public LoadedTokenizer Tokenizer { get; }

    public DatasetRegistry Registry { get; }

    public static RunSetup Start(DeviceOptions device, string tokenizerDir, string datasetInfo) =>
        new(device.Start(), TokenizerLoader.Load(tokenizerDir), DatasetRegistry.Open(datasetInfo));

    public static RunSetup Start(DataOptions options, string tokenizerDir) =>
        Start(options, tokenizerDir, options.DatasetInfo);

    /// <summary>
    /// The options' datasets, the first <c>MaxSamples</c> documents of each; old-language ones take
    /// <paramref name="oldLanguageMaxSamples"/> documents instead when it is given (stage 2's replay).
    /// </summary>
    public IReadOnlyList<LoadedDataset> Load(
        DataOptions options, bool requireLanguage, int? oldLanguageMaxSamples = null) =>
        options.Datasets.Select(name => Registry.Load(name,
            oldLanguageMaxSamples is not null && Registry.Get(name).Language == DatasetEntry.OldLanguage
                ? oldLanguageMaxSamples
                : options.MaxSamples,
            requireLanguage, options.AllowSha1Mismatch)).ToList();

    /// <summary>The datasets packed together into blocks of <paramref name="cutoffLen"/> tokens.</summary>
    public PackedCorpus Pack(IReadOnlyList<LoadedDataset> datasets, int cutoffLen, string? cacheDir,
        bool requireLanguage) =>
        CorpusPacker.Pack(datasets, Tokenizer, cutoffLen, cacheDir, requireLanguage);

    /// <summary>
    /// Each of the options' datasets packed on its own (to score or inspect it alone); one too short for a single block
    /// is an error naming its file.
    /// </summary>
    public IReadOnlyList<(LoadedDataset Dataset, PackedCorpus Corpus)> PackEach(DataOptions options) =>
        Load(options, requireLanguage: false).Select(dataset =>
        {
            var corpus = Pack([dataset], options, requireLanguage: false);
            return corpus.Count > 0 ? (dataset, corpus) : throw new InvalidDataException(
                $"{dataset.FilePath}: dataset '{dataset.Name}' has fewer than cutoff_len = {options.CutoffLen} " +
                $"tokens{(options.MaxSamples is { } max ? $" in its first {max} documents" : "")}, nothing to " +
                "score; lower --cutoff-len or give it more documents (--max-samples)");
        }).ToList();

    /// <summary>The datasets packed together as <paramref name="options"/> say.</summary>
    public PackedCorpus Pack(IReadOnlyList<LoadedDataset> datasets, DataOptions options, bool requireLanguage) =>
        Pack(datasets, options.CutoffLen, options.CacheDir, requireLanguage);
}
