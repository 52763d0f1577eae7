using System.Text.RegularExpressions;

namespace MoeLpr.Notebooks;

/// <summary>
/// A C# cell made ready for Roslyn scripting. Polyglot directives are taken out (replaced by blank lines so that
/// compiler line numbers still match the cell): <c>#r "nuget: ..."</c> and <c>#i</c> are skipped because the kit
/// already references its packages, <c>#!</c> magics are skipped, and <c>#r "file.dll"</c> becomes a reference
/// resolved against the notebook's folder (skipped when that assembly is already referenced).
/// </summary>
internal sealed partial record CellCode(string Code, IReadOnlyList<string> SkippedDirectives, IReadOnlyList<string> References)
{
    internal static CellCode Prepare(string source, string notebookDirectory, ISet<string> referencedAssemblyNames)
    {
        var skipped = new List<string>();
        var references = new List<string>();
        var lines = source.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("#!", StringComparison.Ordinal) || line.StartsWith("#i ", StringComparison.Ordinal))
            {
                skipped.Add(line);
                lines[i] = "";
                continue;
            }
            var reference = ReferenceDirective().Match(line);
            if (!reference.Success) continue;
            lines[i] = "";
            var target = reference.Groups["target"].Value;
            if (target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase)) { skipped.Add(line); continue; }

            var path = Path.GetFullPath(Path.Combine(notebookDirectory, target));
            if (referencedAssemblyNames.Contains(Path.GetFileNameWithoutExtension(path))) { skipped.Add(line); continue; }
            if (!File.Exists(path)) throw new FileNotFoundException($"#r \"{target}\": {path} not found", path);
            references.Add(path);
        }
        return new CellCode(string.Join('\n', lines), skipped, references);
    }

    [GeneratedRegex("""^#r\s+"(?<target>[^"]+)"\s*;?$""")]
    private static partial Regex ReferenceDirective();
}
