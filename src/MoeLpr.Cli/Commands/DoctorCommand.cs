using System.CommandLine;
using MoeLpr.Devices;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr doctor</c>: the libtorch the kit runs on, the devices it can use, and what to do about a missing GPU.
/// </summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor",
            "Report the libtorch in use (path, version), CUDA/MPS devices, threads, and how to fix what is missing");
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            foreach (var finding in Doctor.Examine(LibTorchStartup.Chosen))
            {
                parse.InvocationConfiguration.Output.WriteLine($"{finding.Topic,-10} {finding.Found}");
                if (finding.Advice is not null)
                    parse.InvocationConfiguration.Output.WriteLine($"{"",-10} → {finding.Advice}");
            }
        }));
        return command;
    }
}
