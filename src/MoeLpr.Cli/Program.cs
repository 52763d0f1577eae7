using System.CommandLine;
using MoeLpr.Cli.Commands;

// The `moelpr` tool: each command lives in Commands/ and only parses options and calls the library.
var root = new RootCommand(
    "MoeLpr: upcycle a dense LLaMA-family model into an MoE and train it with language priors routing (MoE-LPR).");
root.Options.Add(KitNatives.LibTorchOption);
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
var parse = root.Parse(args);
return KitNatives.Prepare(parse, args) ?? await parse.InvokeAsync();
