using System.CommandLine;
using MoeLpr.Cli.Commands;

// The `moelpr` tool: each command lives in Commands/ and only parses options and calls the library.
var root = new RootCommand(
    "MoeLpr: upcycle a dense LLaMA-family model into an MoE and train it with language priors routing (MoE-LPR).");
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
