using System.Text.Json;

namespace MoeLpr.Training;

/// <summary>
/// One run per output folder. A run creates <c>run.lock</c> in its folder (<see cref="RunLockHolder"/> as JSON,
/// created exclusively, so of two runs starting together exactly one gets it) and deletes it when it ends, however it
/// ends. A second run that finds a live holder stops with one error naming the folder and the holder. A lock left by
/// a killed run (its process is gone) is stale: the next run, a <c>--resume</c> in particular, takes it over.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";

    static readonly TrainingJson Json = new(new JsonSerializerOptions { WriteIndented = true });

    readonly string dir;
    readonly bool createdDir;
    bool released;

    RunLock(string dir, string path, RunLockHolder holder, bool createdDir) =>
        (this.dir, Path, Holder, this.createdDir) = (dir, path, holder, createdDir);

    /// <summary>The lock file.</summary>
    public string Path { get; }

    public RunLockHolder Holder { get; }

    /// <summary>Takes <paramref name="outputDir"/> (created if absent) for this run, or says who holds it.</summary>
    public static RunLock Acquire(string outputDir)
    {
        if (string.IsNullOrWhiteSpace(outputDir)) throw new ArgumentException("the output folder (--output) is empty");
        if (File.Exists(outputDir))
            throw new IOException($"{outputDir}: is a file; the output of a run is a folder");
        bool created = !Directory.Exists(outputDir);
        Directory.CreateDirectory(outputDir);
        string path = System.IO.Path.Combine(outputDir, FileName);
        var me = RunLockHolder.ThisProcess();
        try
        {
            for (int attempt = 0; attempt < 8; attempt++)
            {
                if (TryCreate(path, me)) return new RunLock(outputDir, path, me, created);
                var holder = Read(path, outputDir);
                if (holder is null) continue; // released in between: try again
                if (holder.IsAlive())
                    throw new IOException(
                        $"{outputDir}: another run is writing to this folder ({holder.Describe()}); " +
                        $"wait for it to finish or choose another --output{IfOtherHost(holder, path)}");
                RemoveStale(path, holder, outputDir);
            }
            throw new IOException($"{outputDir}: could not take {path}: other runs keep taking and releasing it");
        }
        catch
        {
            RemoveIfEmpty(outputDir, created);
            throw;
        }
    }

    /// <summary>Deletes the lock if it is still this run's (and an empty folder this run created).</summary>
    public void Dispose()
    {
        if (released) return;
        released = true;
        try
        {
            if (File.Exists(Path) && ReadQuietly(Path)?.Token == Holder.Token) File.Delete(Path);
        }
        catch (IOException) { } // a lock that cannot be deleted is stale once this process ends
        RemoveIfEmpty(dir, createdDir);
    }

    static string IfOtherHost(RunLockHolder holder, string path) =>
        holder.IsThisHost
            ? ""
            : $" (that host's processes cannot be checked from here: if that run is gone, delete {path})";

    static bool TryCreate(string path, RunLockHolder me)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            JsonSerializer.Serialize(stream, me, Json.RunLockHolder);
            stream.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (File.Exists(path)) { return false; }
    }

    /// <summary>The holder in the lock file; null when the file is gone. An unreadable lock is an error.</summary>
    static RunLockHolder? Read(string path, string outputDir)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException) { return null; }
        try
        {
            return JsonSerializer.Deserialize(text, Json.RunLockHolder) is { Pid: > 0 } holder
                ? holder
                : throw new JsonException("no pid");
        }
        catch (JsonException)
        {
            // A run writes its lock right after creating it, so this is one that is starting, or a damaged file.
            throw new IOException($"{outputDir}: {path} is being written by a run that is starting, or is damaged; " +
                                  "if no run is writing to this folder, delete it");
        }
    }

    static RunLockHolder? ReadQuietly(string path)
    {
        try { return JsonSerializer.Deserialize(File.ReadAllText(path), Json.RunLockHolder); }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    /// <summary>
    /// Removes the stale lock of <paramref name="stale"/>, and only that one: it is first renamed aside (one of several
    /// runs doing this at once wins), then deleted if it is still that holder's; a newer lock renamed by mistake is put
    /// back and reported as the live holder.
    /// </summary>
    static void RemoveStale(string path, RunLockHolder stale, string outputDir)
    {
        string aside = $"{path}.{Guid.NewGuid():N}.stale";
        try { File.Move(path, aside); }
        catch (FileNotFoundException) { return; } // another run removed it first
        var moved = ReadQuietly(aside);
        if (moved?.Token == stale.Token)
        {
            File.Delete(aside);
            return;
        }
        try { File.Move(aside, path); }
        catch (IOException) { File.Delete(aside); }
        throw new IOException($"{outputDir}: another run took this folder just now" +
                              (moved is null ? "" : $" ({moved.Describe()})") + "; choose another --output");
    }

    static void RemoveIfEmpty(string dir, bool created)
    {
        try
        {
            if (created && Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any())
                Directory.Delete(dir);
        }
        catch (IOException) { } // someone wrote into it meanwhile: keep it
    }
}
