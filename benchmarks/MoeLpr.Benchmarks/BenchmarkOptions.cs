using MoeLpr.Model;

namespace MoeLpr.Benchmarks;

/// <summary>
/// Command-line options: <c>[--size quick|full|paper] [--quick] [--device auto|cpu|cuda] [--libtorch DIR]
/// [--attention auto|eager|sdpa] [--moe-dispatch auto|loop|grouped] [--cuda-graphs] [--sections a,b] [--out DIR]
/// [--tag NAME] [--threads N]</c>.
/// </summary>
public sealed record BenchmarkOptions(
    string Size, string Device, string? LibTorch, AttentionImplementation Attention, ExpertDispatch Dispatch,
    bool CudaGraphs, IReadOnlySet<string> Sections, string OutputDirectory, string Tag, int? Threads)
{
    public static readonly string[] AllSections =
        ["dispatch-agreement", GraphAgreementSection, "matmul", "moe-layer", "throughput", "profile", "host-overhead",
         "leak",
         HeldMemorySection];

    /// <summary>
    /// Runs alone, so not by default: after other sections the process serves a forward's tensors from memory it
    /// already holds, which hides them from RSS (a full run measured 0.0 MiB where a fresh process measures 18).
    /// </summary>
    const string HeldMemorySection = "held-memory";
    /// <summary>Needs CUDA: not by default.</summary>
    public const string GraphAgreementSection = "graph-agreement";
    public static readonly string[] Sizes = ["quick", "full", "paper"];

    public bool Runs(string section) => Sections.Contains(section);

    public static BenchmarkOptions Parse(string[] args)
    {
        string size = "full", device = "auto", output = DefaultOutputDirectory(), tag = "";
        var attention = AttentionImplementation.Auto;
        var dispatch = ExpertDispatch.Auto;
        string? libtorch = null;
        int? threads = null;
        bool cudaGraphs = false;
        var sections = AllSections.Where(s => s is not (HeldMemorySection or GraphAgreementSection)).ToHashSet();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick": size = "quick"; break;
                case "--size":
                    size = Value();
                    if (!Sizes.Contains(size))
                        throw new ArgumentException($"unknown size '{size}' (valid: {string.Join(", ", Sizes)})");
                    break;
                case "--moe-dispatch":
                    var name = Value();
                    dispatch = Enum.TryParse<ExpertDispatch>(name, ignoreCase: true, out var parsed) ? parsed
                        : throw new ArgumentException($"unknown MoE dispatch '{name}' (valid: auto, loop, grouped)");
                    break;
                case "--attention":
                    var implementation = Value();
                    attention = Enum.TryParse<AttentionImplementation>(implementation, ignoreCase: true, out var a) ? a
                        : throw new ArgumentException(
                            $"unknown attention '{implementation}' (valid: auto, eager, sdpa)");
                    break;
                case "--cuda-graphs": cudaGraphs = true; break;
                case "--device": device = Value(); break;
                case "--libtorch": libtorch = Value(); break;
                case "--out": output = Value(); break;
                case "--tag": tag = Value(); break;
                case "--threads":
                    threads = int.TryParse(Value(), out var n) && n > 0 ? n
                        : throw new ArgumentException("--threads needs a positive integer");
                    break;
                case "--sections":
                    sections = Value()
                        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    var unknown = sections.Except(AllSections).ToList();
                    if (unknown.Count > 0)
                        throw new ArgumentException($"unknown section(s) {string.Join(", ", unknown)} (valid: " +
                                                    $"{string.Join(", ", AllSections)})");
                    break;
                default:
                    throw new ArgumentException(
                        $"unknown option '{args[i]}' (valid: --size {string.Join("|", Sizes)}, --quick, " +
                        "--device auto|cpu|cuda, --libtorch DIR, --attention auto|eager|sdpa, " +
                        "--moe-dispatch auto|loop|grouped, --cuda-graphs, " +
                        $"--sections {string.Join(",", AllSections)}, --out DIR, --tag NAME, --threads N)");
            }
        }
        if (sections.Contains(HeldMemorySection) && sections.Count > 1)
            throw new ArgumentException($"{HeldMemorySection} runs alone (--sections {HeldMemorySection}): after " +
                                        "other sections the process reuses memory it holds, which hides what a " +
                                        "forward keeps");
        return new BenchmarkOptions(size, device, libtorch, attention, dispatch, cudaGraphs, sections, output, tag,
            threads);
    }

    /// <summary>benchmarks/results next to this project, found by walking up from the working directory.</summary>
    static string DefaultOutputDirectory()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MoeLpr.sln")))
                return Path.Combine(dir.FullName, "benchmarks", "results");
        return Path.Combine(Directory.GetCurrentDirectory(), "benchmark-results");
    }
}
