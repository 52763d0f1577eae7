namespace MoeLpr.Data;

/// <summary>What <see cref="HelpCorpusBuilder"/> reads and how much of it it writes.</summary>
/// <param name="HelpRoot">The unpacked <c>usr/share/libreoffice/help</c> folder holding <c>en-US/</c>, <c>el/</c>,
/// …</param>
/// <param name="OutDir">Data root: gets <c>corpus/</c>, <c>moelpr_examples/</c> and <c>dataset_info.json</c>.</param>
/// <param name="MaxTrain">Pages per language in the train split (null: all).</param>
/// <param name="MaxEval">Pages per language in each of valid and test (null: all).</param>
/// <param name="ExampleDocuments">Japanese and Chinese train pages for the MoE-LPR toy example (0: none).</param>
/// <param name="PackagesFile">Lines "package version" of the Debian packages used, quoted in the licence
/// notice.</param>
/// <param name="CopyrightFile">The packages' Debian copyright file, whose licence lines the notice quotes.</param>
public sealed record HelpCorpusOptions(
    string HelpRoot,
    string OutDir,
    int? MaxTrain = null,
    int? MaxEval = null,
    int ExampleDocuments = 300,
    string? PackagesFile = null,
    string? CopyrightFile = null);
