using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.Loader;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace MoeLpr.NotebookHost;

/// <summary>
/// The kernel a notebook runs in, built as the dotnet-interactive tool builds its C# kernel for Jupyter: C# with
/// <c>#r "nuget:"</c>, the kernel helpers (<c>display</c>, <c>HTML</c>), value sharing, HTML as the default output, and
/// the kernel extensions of every package a cell adds (their <c>interactive-extensions/dotnet</c> folder: extension
/// assemblies and <c>extension.dib</c> scripts), loaded after the cell that added the package, as that tool does.
/// </summary>
internal static class NotebookKernels
{
    public static readonly HashSet<string> CSharpNames = new(["csharp", "c#", "C#"], StringComparer.OrdinalIgnoreCase);

    public static KernelInfoCollection DocumentKernels { get; } = new()
    {
        new Microsoft.DotNet.Interactive.Documents.KernelInfo("csharp", "C#", ["c#", "C#"]),
        new Microsoft.DotNet.Interactive.Documents.KernelInfo("markdown", "Markdown", ["md"]),
    };

    [RequiresUnreferencedCode(NotebookRunner.NeedsReflection)]
    public static CompositeKernel Create()
    {
        var addedPackages = new ConcurrentQueue<string>();
        var csharp = new CSharpKernel()
            .UseNugetDirective((kernel, packages) =>
            {
                kernel.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                foreach (var package in packages) addedPackages.Enqueue(package.PackageRoot);
                return Task.CompletedTask;
            })
            .UseKernelHelpers()
            .UseValueSharing();
        var composite = new CompositeKernel { csharp };
        composite.DefaultKernelName = csharp.Name;

        var loaded = new HashSet<string>(StringComparer.Ordinal);
        composite.AddMiddleware(async (command, context, next) =>
        {
            await next(command, context);
            while (addedPackages.TryDequeue(out var packageRoot))
            {
                var extensions = new DirectoryInfo(Path.Combine(packageRoot, "interactive-extensions", "dotnet"));
                if (extensions.Exists && loaded.Add(extensions.FullName))
                    await LoadExtensionsAsync(composite, extensions, context);
            }
        });

        Formatter.DefaultMimeType = HtmlFormatter.MimeType;
        Formatter.SetPreferredMimeTypesFor(typeof(string), PlainTextFormatter.MimeType);
        return composite;
    }

    [RequiresUnreferencedCode(NotebookRunner.NeedsReflection)]
    static async Task LoadExtensionsAsync(CompositeKernel kernel, DirectoryInfo folder, KernelInvocationContext context)
    {
        foreach (var file in folder.GetFiles("*.dll"))
        {
            var assembly = LoadedAssembly(file.FullName)
                ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(file.FullName);
            var extensions = assembly.ExportedTypes
                .Where(t => t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false } &&
                    typeof(IKernelExtension).IsAssignableFrom(t))
                .ToList();
            if (extensions.Count > 0)
                KernelInvocationContextExtensions.Display(context, $"Loading extensions from `{file.FullName}`",
                    PlainTextFormatter.MimeType);
            foreach (var type in extensions)
                await ((IKernelExtension)Activator.CreateInstance(type)!).OnLoadAsync(kernel);
        }
        var script = new FileInfo(Path.Combine(folder.FullName, "extension.dib"));
        if (!script.Exists) return;
        KernelInvocationContextExtensions.Display(context, $"Loading extension script from `{script.FullName}`",
            PlainTextFormatter.MimeType);
        await kernel.LoadAndRunInteractiveDocument(script, context.Command);
    }

    // This process may already hold the assembly (the CLI references the kit): a second copy by path cannot load.
    static System.Reflection.Assembly? LoadedAssembly(string path)
    {
        var name = System.Reflection.AssemblyName.GetAssemblyName(path).Name;
        return AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == name);
    }
}
