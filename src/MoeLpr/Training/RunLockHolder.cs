using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;

namespace MoeLpr.Training;

/// <summary>
/// Who holds a run folder: the process (pid and its start time, on which host), when the run started and a token
/// that tells this lock from a later one. Written as <c>run.lock</c> (<see cref="RunLock"/>).
/// </summary>
public sealed record RunLockHolder
{
    [JsonPropertyName("pid")] public int Pid { get; init; }
    /// <summary>When the holding process started (UTC): a later process reusing the pid is not taken for it.</summary>
    [JsonPropertyName("process_start")] public DateTime? ProcessStart { get; init; }
    [JsonPropertyName("host")] public string Host { get; init; } = "";
    /// <summary>When the run took the folder (UTC).</summary>
    [JsonPropertyName("started")] public DateTime Started { get; init; }
    [JsonPropertyName("token")] public string Token { get; init; } = "";
    [JsonPropertyName("command")] public string? Command { get; init; }

    [JsonIgnore]
    public bool IsThisHost => string.Equals(Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);

    /// <summary>This process, now.</summary>
    public static RunLockHolder ThisProcess()
    {
        using var process = Process.GetCurrentProcess();
        return new RunLockHolder
        {
            Pid = process.Id, ProcessStart = process.StartTime.ToUniversalTime(), Host = Environment.MachineName,
            Started = DateTime.UtcNow, Token = Guid.NewGuid().ToString("N"), Command = Environment.CommandLine,
        };
    }

    /// <summary>
    /// False only when the holder is certainly gone: on this host, no process has its pid, or the process with that
    /// pid started at another time (the pid was reused). A holder on another host is taken to be alive.
    /// </summary>
    public bool IsAlive()
    {
        if (!IsThisHost) return true;
        try
        {
            using var process = Process.GetProcessById(Pid);
            if (process.HasExited) return false;
            return ProcessStart is not DateTime recorded
                   || Math.Abs((process.StartTime.ToUniversalTime() - recorded).TotalSeconds) < 1;
        }
        catch (ArgumentException) { return false; }          // no process with that pid
        catch (InvalidOperationException) { return false; }  // it exited while being looked at
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return true; // its start time cannot be read: do not take the folder from it
        }
    }

    /// <summary>"pid 1234, started 2026-05-01T10:00:00Z" (and the host when it is another one).</summary>
    public string Describe()
    {
        string host = IsThisHost ? "" : $" on {Host}";
        return $"pid {Pid}{host}, started {Started.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}";
    }
}
