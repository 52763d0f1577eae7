using MoeLpr.Devices;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Devices;

/// <summary>The version of a libtorch folder, read from each layout it comes in, and when it earns a warning.</summary>
public class LibTorchFolderTests
{
    static string LibFolder(TempDirectory root, string parentFile, string contents)
    {
        var lib = Directory.CreateDirectory(Path.Combine(root.Path, "torch", "lib")).FullName;
        File.WriteAllText(Path.Combine(root.Path, "torch", parentFile), contents);
        File.WriteAllText(Path.Combine(lib, "libtorch_cpu.so"), "");
        return lib;
    }

    [Fact]
    public void PyTorchVersionComesFromVersionPy()
    {
        using var root = new TempDirectory();
        var lib = LibFolder(root, "version.py",
            "from typing import Optional\n__version__ = '2.11.0+cu130'\ngit_version = 'abc'\n");
        var folder = LibTorchFolder.Named(lib, "--libtorch");
        Assert.Equal("2.11.0+cu130", folder.Version);
        Assert.Null(folder.VersionWarning);   // 2.11 was measured to work
    }

    [Fact]
    public void LibTorchZipVersionComesFromBuildVersion()
    {
        using var root = new TempDirectory();
        var folder = LibTorchFolder.Named(LibFolder(root, "build-version", "2.10.0+cpu\n"), "--libtorch");
        Assert.Equal("2.10.0+cpu", folder.Version);
        Assert.Null(folder.VersionWarning);
    }

    [Fact]
    public void NuGetVersionComesFromThePackageFolder() =>
        Assert.Equal("2.10.0",
            LibTorchFolder.VersionOf("/packages/libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native"));

    [Theory]
    [InlineData("2.12.0+cu130")]
    [InlineData("2.1.0")]
    [InlineData("1.13.1")]
    public void UntriedVersionsWarnNamingTheFolderAndTheVersionsKnownToWork(string version)
    {
        using var root = new TempDirectory();
        var folder = LibTorchFolder.Named(LibFolder(root, "version.py", $"__version__ = '{version}'\n"),
            "MOELPR_LIBTORCH");
        Assert.Equal(
            $"{folder.Path}: libtorch {version} has not been tried with TorchSharp 0.107.0 " +
            "(built for 2.10.0, 2.11 measured to work); if a symbol is missing, use a PyTorch with libtorch 2.10 or 2.11",
            folder.VersionWarning);
    }

    [Fact]
    public void UnknownVersionWarns()
    {
        using var root = new TempDirectory();
        var lib = Directory.CreateDirectory(Path.Combine(root.Path, "lib")).FullName;
        File.WriteAllText(Path.Combine(lib, "libtorch_cpu.so"), "");
        Assert.StartsWith($"{lib}: the libtorch version is unknown",
            LibTorchFolder.Named(lib, "--libtorch").VersionWarning);
    }
}
