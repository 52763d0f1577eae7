namespace MoeLpr.Benchmarks;

/// <summary>
/// Process memory from /proc/self/status: VmRSS (now) and VmHWM (peak since start or since the last
/// <see cref="ResetPeak"/>). TorchSharp 0.107 exposes no CUDA allocator statistics (only
/// <c>torch.cuda.synchronize</c>), so on CUDA the device peak is not reported.
/// </summary>
public static class MemoryProbe
{
    public static long ResidentBytes() => StatusKilobytes("VmRSS") * 1024;

    public static long PeakResidentBytes() => StatusKilobytes("VmHWM") * 1024;

    /// <summary>
    /// Writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0); false if refused.
    /// </summary>
    public static bool ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static long StatusKilobytes(string field)
    {
        if (!File.Exists("/proc/self/status")) return 0;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":"));
        return line is null ? 0 : long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
    }
}
