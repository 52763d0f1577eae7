using System.Net;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using MoeLpr.Devices;
using MoeLpr.Reporting;
using Plotly.NET;
using TorchSharp;

namespace MoeLpr.Notebooks;

/// <summary>
/// What a .NET Interactive kernel needs to run the kit, called by the package's <c>extension.dib</c> when a notebook
/// loads it with <c>#r "nuget: MoeLpr"</c>. Kernel-neutral (no Microsoft.DotNet.Interactive reference): the script
/// registers the formatters, this class supplies what they write.
/// </summary>
public static class NotebookKernel
{
    static int _prepared;

    /// <summary>
    /// Makes the process ready for the kit, once: Plotly.NET may bind to the kernel's FSharp.Core, and TorchSharp
    /// starts (from the package's Debian-12-loadable binding when its own is not loadable). Displayed, the result says
    /// how in one line and carries plotly.js, so that it is embedded once per notebook and every later chart draws
    /// offline. A problem goes to <paramref name="fail"/> as one line and the result is null: the extension script
    /// fails the notebook cell that loaded the kit with it (an exception in an extension script would not show).
    /// </summary>
    public static KernelReady? Prepare(Action<string> fail)
    {
        try
        {
            if (Interlocked.Exchange(ref _prepared, 1) == 0) AcceptKernelFSharpCore();
            var binding = StartTorchSharp();
            return new KernelReady(
                $"MoeLpr: TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)} on libtorch " +
                $"{LibTorchNatives.BuiltForLibTorch} with {binding}, {torch.get_num_threads()} threads; " +
                $"charts render offline with plotly.js {PlotlyJs.Version}");
        }
        catch (Exception e)
        {
            fail(
                $"MoeLpr could not start TorchSharp: " +
                $"{(e is TypeInitializationException { InnerException: { } inner } ? inner : e).Message.Split('\n')[0]}");
            return null;
        }
    }

    /// <summary>
    /// A chart as an HTML fragment that draws with the plotly.js that <see cref="Prepare"/> displayed (no CDN).
    /// </summary>
    public static string ChartHtml(GenericChart chart) => GenericChart.toChartHTML(chart);

    // The kernels (dotnet-interactive 1.0.712001, dotnet-repl 0.3.259) load their own FSharp.Core 10.0 at startup;
    // Plotly.NET 6 and DynamicObj ask for 10.1, which cannot load beside it. Every FSharp.Core member they reference
    // exists in 10.0 (checked by PlotlyFSharpCoreTests), so a request for the same major version gets the loaded one.
    static void AcceptKernelFSharpCore() =>
        AssemblyLoadContext.Default.Resolving += (_, requested) =>
        {
            if (requested.Name != "FSharp.Core") return null;
            var loaded = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == "FSharp.Core");
            return loaded?.GetName().Version?.Major == requested.Version?.Major ? loaded : null;
        };

    static string StartTorchSharp()
    {
        var how = "TorchSharp's own binding";
        if (!LibTorchNatives.TorchSharpFindsItsBinding())
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                throw new InvalidOperationException(
                    "TorchSharp found no native binding; reference TorchSharp-cpu (the kit's package does)");
            var libtorch = LibTorchNatives.NuGetCacheLibTorch()
                           ?? throw new InvalidOperationException(
                               $"libtorch-cpu-linux-x64 {LibTorchNatives.BuiltForLibTorch} is not in the NuGet " +
                               $"cache next to TorchSharp");
            LibTorchNatives.Load(libtorch, PackagedBinding());
            how = "the kit's Debian-12-compatible libLibTorchSharp.so";
        }
        // fails here, with TorchSharp's trace, rather than in the first cell that uses it
        torch.InitializeDeviceType(DeviceType.CPU);
        return how;
    }

    // In the package: lib/net10.0/MoeLpr.dll and native/linux-x64/libLibTorchSharp.so (build/KitPackage.targets).
    static string PackagedBinding() =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(NotebookKernel).Assembly.Location)!, "..", "..",
            "native", "linux-x64", "libLibTorchSharp.so"));
}

/// <summary>
/// The kernel is ready for the kit: one line saying how TorchSharp started, and plotly.js inline for the charts.
/// </summary>
[TypeFormatterSource(typeof(HtmlViewFormatterSource), PreferredMimeTypes = ["text/html"])]
public sealed record KernelReady(string Description) : IHtmlView
{
    public string ToHtml() => $"<div>{WebUtility.HtmlEncode(Description)}</div>\n{PlotlyJs.InlineScriptTags}";

    public override string ToString() => Description;
}
