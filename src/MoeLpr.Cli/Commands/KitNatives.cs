using System.CommandLine;
using MoeLpr.Devices;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>--libtorch DIR</c> on every command: the libtorch TorchSharp runs on is chosen and loaded
/// (<see cref="LibTorchStartup"/>) before any command starts TorchSharp.
/// </summary>
internal static class KitNatives
{
    public static readonly Option<string?> LibTorchOption = new("--libtorch")
    {
        Description = "libtorch folder to run on, e.g. a PyTorch's <site-packages>/torch/lib " +
                      $"(also {LibTorchFolder.EnvironmentVariable})",
        Recursive = true,
    };

    /// <summary>An exit code when the command has already run or cannot run; null to run it here.</summary>
    public static int? Prepare(ParseResult parse, string[] args)
    {
        if (parse.Errors.Count > 0) return null; // the parser reports them
        var deviceOption = parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--device");
        var device = deviceOption is Option<string> option
            ? parse.GetValue(option) ?? "auto"
            : "auto";
        return LibTorchStartup.Start(parse.GetValue(LibTorchOption), device, args, parse.InvocationConfiguration.Error);
    }
}
