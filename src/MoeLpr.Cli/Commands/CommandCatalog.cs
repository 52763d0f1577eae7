using System.CommandLine;

namespace MoeLpr.Cli.Commands;

/// <summary>Every subcommand of <c>moelpr</c>, one line each.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        UpcycleCommand.Create(),
        InspectCommand.Create(),
        ExportCommand.Create(),
        CorpusCommand.Create(),
        TrainCommand.Create(),
        EvalCommand.Create(),
        TokenizerCommand.Create(),
        NotebookCommand.Create(),
        PretrainCommand.Create(),
        DemoCommand.Create(),
        RoutesCommand.Create(),
        TasksCommand.Create(),
        MakeTaskCommand.Create(),
    ];
}
