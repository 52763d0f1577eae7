using System.CommandLine;
using MoeLpr.Data;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr corpus</c>: plain-text parallel corpus from unpacked LibreOffice help packages
/// (see <c>data/scripts/fetch-corpus.sh</c>, which downloads them and calls this).</summary>
public static class CorpusCommand
{
    public static Command Create()
    {
        var helpRoot = new Option<string>("--help-root")
        {
            Description = "unpacked usr/share/libreoffice/help folder", Required = true,
        };
        var output = new Option<string>("--out", "--output")
        {
            Description = "Data root: gets corpus/, moelpr_examples/, dataset_info.json", Required = true,
        };
        var maxTrain = new Option<int?>("--max-train") { Description = "pages per language in train (default: all)" };
        var maxEval = new Option<int?>("--max-eval")
        {
            Description = "pages per language in valid and in test (default: all)",
        };
        var examples = new Option<int>("--examples")
        {
            Description = "ja/zh pages in the MoE-LPR toy example (0: none)", DefaultValueFactory = _ => 300,
        };
        var packages = new Option<string?>("--packages")
        {
            Description = "file of 'package version' lines for the licence notice",
        };
        var copyright = new Option<string?>("--copyright") { Description = "the packages' Debian copyright file" };
        var pretraining = new Option<string?>("--pretraining-docs")
        {
            Description = "unpacked root of the translated Debian manuals (fetch-corpus.sh --pretraining): also " +
                          "write the old-language pretraining corpus (pretrain/{en,es,zh}.{train,valid}.jsonl)",
        };
        var command = new Command("corpus",
            "Build the multilingual corpus (en es zh old; el hu tr ja new) from LibreOffice help pages");
        Option[] options = [helpRoot, output, maxTrain, maxEval, examples, packages, copyright, pretraining];
        foreach (var option in options)
            command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var console = parse.InvocationConfiguration.Output;
            var summary = HelpCorpusBuilder.Build(new HelpCorpusOptions(
                parse.GetValue(helpRoot)!, parse.GetValue(output)!, parse.GetValue(maxTrain), parse.GetValue(maxEval),
                parse.GetValue(examples), parse.GetValue(packages), parse.GetValue(copyright)));
            console.WriteLine($"{summary.AlignedPages} pages are translated in every corpus language");
            foreach (var file in summary.Files)
                console.WriteLine($"{file.Dataset,-14} {file.Pages,5} pages {file.Bytes / 1e6,8:F2} MB  {file.Path}");
            if (parse.GetValue(pretraining) is string docsRoot)
            {
                console.WriteLine(
                    "old-language pretraining corpus (pages / MB of text per source, language and split):");
                var counts =
                    PretrainingCorpusBuilder.Build(parse.GetValue(helpRoot)!, docsRoot, parse.GetValue(output)!);
                foreach (var count in counts)
                    console.WriteLine($"{count.Language} {count.Split,-6} {count.Source,-18} {count.Pages,5} pages " +
                                      $"{count.Bytes / 1e6,8:F2} MB");
            }
        }));
        return command;
    }
}
