using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using System.Text.Json.Nodes;
using MoeLpr.Notebooks;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Notebooks;

/// <summary>
/// The measurement behind the kit's FSharp.Core binding redirect in notebook kernels: Plotly.NET 6 and its F#
/// dependencies are compiled against FSharp.Core 10.1, the kernels ship FSharp.Core 10.0, and every FSharp.Core type
/// and member they reference exists in the kernels' copy (so redirecting them to it is safe; checked by name and, for
/// methods, generic and parameter count).
/// </summary>
public class PlotlyFSharpCoreTests
{
    static readonly string[] PlotlyAssemblies = ["Plotly.NET.dll", "Plotly.NET.CSharp.dll", "DynamicObj.dll",
        "Giraffe.ViewEngine.dll"];

    public static IEnumerable<object[]> KernelTools() => [["microsoft.dotnet-interactive"], ["dotnet-repl"]];

    [SkippableTheory]
    [MemberData(nameof(KernelTools))]
    public void EveryFSharpCoreMemberPlotlyUsesExistsInTheKernelsFSharpCore(string tool)
    {
        var kernelFSharpCore = KernelFSharpCore(tool);
        Skip.If(kernelFSharpCore is null, $"{tool} is not restored (dotnet tool restore)");
        var context = new AssemblyLoadContext($"{tool} FSharp.Core", isCollectible: true);
        try
        {
            var fsharpCore = context.LoadFromAssemblyPath(kernelFSharpCore!);
            Assert.Equal(10, fsharpCore.GetName().Version!.Major);
            var checkedReferences = 0;
            var missing = new List<string>();
            foreach (var file in PlotlyAssemblies)
                checkedReferences += MissingFrom(fsharpCore, Path.Combine(AppContext.BaseDirectory, file), missing);

            Assert.True(checkedReferences > 1000, $"only {checkedReferences} FSharp.Core references found");
            Assert.Empty(missing);
        }
        finally { context.Unload(); }
    }

    // The tool's FSharp.Core in the NuGet cache, at the version .config/dotnet-tools.json pins.
    static string? KernelFSharpCore(string tool)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(KitDirectory.Path(".config/dotnet-tools.json")))!;
        var version = manifest["tools"]![tool]!["version"]!.GetValue<string>();
        var tools = Path.Combine(NuGetCache.Packages, tool, version, "tools");
        return Directory.Exists(tools)
            ? Directory.GetFiles(tools, "FSharp.Core.dll", SearchOption.AllDirectories).FirstOrDefault()
            : null;
    }

    static int MissingFrom(Assembly fsharpCore, string consumer, List<string> missing)
    {
        using var pe = new PEReader(File.OpenRead(consumer));
        var reader = pe.GetMetadataReader();
        var fsharpReference = reader.AssemblyReferences.FirstOrDefault(
            h => reader.GetString(reader.GetAssemblyReference(h).Name) == "FSharp.Core");
        if (fsharpReference.IsNil) return 0;
        const BindingFlags all =
            BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;
        var count = 0;

        foreach (var handle in reader.TypeReferences)
        {
            if (!FromFSharpCore(reader, handle, fsharpReference)) continue;
            count++;
            if (fsharpCore.GetType(TypeName(reader, handle)) is null)
                missing.Add($"{Path.GetFileName(consumer)}: type {TypeName(reader, handle)}");
        }
        foreach (var handle in reader.MemberReferences)
        {
            var member = reader.GetMemberReference(handle);
            var parent = GenericDefinition(reader, member.Parent);
            if (parent is not { } type || !FromFSharpCore(reader, type, fsharpReference)) continue;
            count++;
            var name = reader.GetString(member.Name);
            var declaring = fsharpCore.GetType(TypeName(reader, type));
            var found = member.GetKind() == MemberReferenceKind.Method
                ? declaring?.GetMember(name, all).OfType<MethodBase>().Any(m => Matches(m, reader, member)) ?? false
                : declaring?.GetMember(name, all).Length > 0;
            if (!found) missing.Add($"{Path.GetFileName(consumer)}: {TypeName(reader, type)}::{name}");
        }
        return count;
    }

    static bool Matches(MethodBase method, MetadataReader reader, MemberReference member)
    {
        var signature = reader.GetBlobReader(member.Signature);
        var header = signature.ReadSignatureHeader();
        var genericCount = header.IsGeneric ? signature.ReadCompressedInteger() : 0;
        var parameterCount = signature.ReadCompressedInteger();
        return method.GetParameters().Length == parameterCount &&
            (method.IsGenericMethodDefinition ? method.GetGenericArguments().Length : 0) == genericCount;
    }

    static TypeReferenceHandle? GenericDefinition(MetadataReader reader, EntityHandle parent)
    {
        if (parent.Kind == HandleKind.TypeReference) return (TypeReferenceHandle)parent;
        if (parent.Kind != HandleKind.TypeSpecification) return null;
        var blob = reader.GetBlobReader(reader.GetTypeSpecification((TypeSpecificationHandle)parent).Signature);
        if (blob.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance) return null;
        blob.ReadSignatureTypeCode(); // class or value type
        var definition = blob.ReadTypeHandle();
        return definition.Kind == HandleKind.TypeReference ? (TypeReferenceHandle)definition : null;
    }

    static bool FromFSharpCore(MetadataReader reader, TypeReferenceHandle handle, AssemblyReferenceHandle fsharpCore)
    {
        var scope = reader.GetTypeReference(handle).ResolutionScope;
        return scope.Kind == HandleKind.TypeReference ? FromFSharpCore(reader, (TypeReferenceHandle)scope, fsharpCore)
            : scope == (EntityHandle)fsharpCore;
    }

    static string TypeName(MetadataReader reader, TypeReferenceHandle handle)
    {
        var type = reader.GetTypeReference(handle);
        var name = reader.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            return TypeName(reader, (TypeReferenceHandle)type.ResolutionScope) + "+" + name;
        var ns = reader.GetString(type.Namespace);
        return ns.Length > 0 ? $"{ns}.{name}" : name;
    }
}
