namespace MoeLpr.Tests.TestSupport;

/// <summary>
/// The NuGet global packages folder this machine restores into (NUGET_PACKAGES, else ~/.nuget/packages).
/// </summary>
internal static class NuGetCache
{
    public static string Packages => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
        ? configured
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
