using System.CommandLine;
using System.CommandLine.Help;

namespace MoeLpr.Cli.Commands;

/// <summary>The <c>moelpr</c> command and every subcommand, one line each.</summary>
public static class CommandCatalog
{
    /// <summary>
    /// The root command, named <c>moelpr</c> in usage lines wherever it runs from: a <c>RootCommand</c> takes the name
    /// of the file it was started from (<c>MoeLpr.Cli</c>, the assembly the GPU scripts run). It adds what a
    /// <c>RootCommand</c> adds, help and version, and the recursive <c>--libtorch</c>.
    /// </summary>
    public static Command Root()
    {
        var root = new Command("moelpr", "MoeLpr: upcycle a dense LLaMA-family model into an MoE and train it with " +
                                         "language priors routing (MoE-LPR).");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(KitNatives.LibTorchOption);
        foreach (var command in All()) root.Subcommands.Add(command);
        return root;
    }

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
