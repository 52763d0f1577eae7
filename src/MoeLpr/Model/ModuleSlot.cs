using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>Swaps a registered sub-module for another under the same state-dict name (upcycling, adapters).</summary>
internal static class ModuleSlot
{
    public static void Replace(nn.Module owner, string name, nn.Module replacement)
    {
        // TorchSharp refuses to register a name twice; registering null removes the old entry first.
        owner.register_module(name, null!);
        owner.register_module(name, replacement);
    }
}
