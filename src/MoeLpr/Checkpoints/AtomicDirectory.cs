namespace MoeLpr.Checkpoints;

/// <summary>
/// Writes a checkpoint folder all-or-nothing: the files are produced in a hidden staging folder next to the target,
/// and only when all of them exist are they moved in (files in subfolders too). A failure while they are produced
/// leaves the target exactly as it was. A new folder arrives in one rename; into an existing one each file is renamed
/// over its old version, so a crash between two of those renames can leave old and new files side by side.
/// </summary>
public static class AtomicDirectory
{
    /// <summary>
    /// Throws unless <paramref name="dir"/> is absent or empty: a command that writes a whole folder (an export, a
    /// recipe, a tokenizer) must not merge its files into, or over, someone else's.
    /// </summary>
    public static void RequireNewOrEmpty(string dir)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new ArgumentException("the output folder is empty");
        if (File.Exists(dir)) throw new IOException($"{dir}: is a file; the output is a folder");
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            throw new IOException($"{dir}: the output folder is not empty; choose a new one (nothing was written)");
    }

    /// <param name="dir">The target folder; created if absent.</param>
    /// <param name="fill">Writes every file into the staging folder it is given.</param>
    /// <param name="replacedPatterns">
    /// File patterns (e.g. <c>model*.safetensors</c>) that the new files supersede: matching files already in
    /// <paramref name="dir"/> that the new write did not produce are removed, so a sharded save over a single-file
    /// checkpoint (or the reverse) does not leave stale weights behind.
    /// </param>
    internal static void Write(string dir, Action<string> fill, params string[] replacedPatterns)
    {
        string target = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(target)
            ?? throw new ArgumentException($"{dir}: cannot write a checkpoint to a root folder");
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            fill(staging);
            if (!Directory.Exists(target))
            {
                Directory.Move(staging, target);
                return;
            }
            var written = Directory.GetFiles(staging).Select(Path.GetFileName).ToHashSet();
            foreach (var file in Directory.GetFiles(staging, "*", SearchOption.AllDirectories))
            {
                string destination = Path.Combine(target, Path.GetRelativePath(staging, file));
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                File.Move(file, destination, overwrite: true);
            }
            foreach (var pattern in replacedPatterns)
                foreach (var stale in Directory.GetFiles(target, pattern))
                    if (!written.Contains(Path.GetFileName(stale))) File.Delete(stale);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
