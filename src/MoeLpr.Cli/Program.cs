using MoeLpr.Cli.Commands;

// The `moelpr` tool: each command lives in Commands/ and only parses options and calls the library.
var parse = CommandCatalog.Root().Parse(args);
return KitNatives.Prepare(parse, args) ?? await parse.InvokeAsync();
