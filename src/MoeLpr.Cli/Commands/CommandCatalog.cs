using System.CommandLine;

namespace MoeLpr.Cli.Commands;

/// <summary>Every subcommand of <c>moelpr</c>, one line each.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        CorpusCommand.Create(),
        TokenizerCommand.Create(),
        UpcycleCommand.Create(),
        InspectCommand.Create(),
        ExportCommand.Create(),
        TrainCommand.Create(),
        RecipeCommand.Create(),
        EvalCommand.Create(),
        NotebookCommand.Create(),
        DoctorCommand.Create(),
        PretrainCommand.Create(),
        DemoCommand.Create(),
        RoutesCommand.Create(),
        TasksCommand.Create(),
        MakeTaskCommand.Create(),
    ];
}
