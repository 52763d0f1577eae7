using System.CommandLine;
using MoeLpr.Evaluation;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr make-task</c>: builds the "pick the true next sentence" multiple-choice task from the corpus.
/// </summary>
public static class MakeTaskCommand
{
    public static Command Create()
    {
        var corpus = new Option<string>("--corpus")
        {
            Description = "Folder with {lang}.{split}.jsonl", DefaultValueFactory = _ => "data/corpus",
        };
        var languages = new Option<string>("--languages")
        {
            Description = "Comma-separated language codes", DefaultValueFactory = _ => "en,es,zh,el,hu,tr",
        };
        var split = new Option<string>("--split")
        {
            Description = "Corpus split to draw from", DefaultValueFactory = _ => "test",
        };
        var items = new Option<int>("--items") { Description = "Items per language", DefaultValueFactory = _ => 100 };
        var distractors = new Option<int>("--distractors")
        {
            Description = "Wrong choices per item", DefaultValueFactory = _ => 3,
        };
        var seed = new Option<int>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 1234 };
        var output = new Option<string>("--output", "--out")
        {
            Description = "Task JSONL to write", DefaultValueFactory = _ => "data/tasks/next_sentence.jsonl",
        };

        var command = new Command("make-task", "Build the next-sentence multiple-choice task (context = a sentence, " +
                                               "choices = its true successor + distractors)");
        foreach (var option in new Option[] { corpus, languages, split, items, distractors, seed, output })
            command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var codes = parse.GetValue(languages)!
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (codes.Length == 0) throw new ArgumentException("no language given (--languages en,es,…)");
            var task = NextSentenceTaskBuilder.BuildFromCorpus(parse.GetValue(corpus)!, codes, parse.GetValue(split)!,
                parse.GetValue(items), parse.GetValue(distractors), parse.GetValue(seed));
            MultipleChoiceTaskFile.Save(parse.GetValue(output)!, task);
            parse.InvocationConfiguration.Output.WriteLine(
                $"wrote {task.Count} items ({string.Join(", ", codes)}) to {parse.GetValue(output)}");
        }));
        return command;
    }
}
