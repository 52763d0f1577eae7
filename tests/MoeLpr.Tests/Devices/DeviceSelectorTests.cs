using MoeLpr.Devices;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Devices;

public class DeviceSelectorTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    [InlineData(" cpu ")]
    public void CpuIsAlwaysAvailable(string name)
    {
        Assert.Equal(DeviceType.CPU, DeviceSelector.Resolve(name).type);
    }

    [Fact]
    public void AutoPicksCudaThenMpsThenCpu()
    {
        var expected = torch.cuda.is_available() ? DeviceType.CUDA
                     : torch.mps_is_available() ? DeviceType.MPS
                     : DeviceType.CPU;
        Assert.Equal(expected, DeviceSelector.Resolve("auto").type);
    }

    [SkippableTheory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    [InlineData("CUDA:1")]
    public void CudaWithoutCudaSaysWhyAndWhatToDo(string name)
    {
        Skip.If(torch.cuda.is_available(), "CUDA is available here");
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve(name));
        Assert.Contains(name, error.Message);
        Assert.Contains(Doctor.WhyNoCuda(), error.Message);
        Assert.Contains("PyTorch", error.Message);
    }

    [SkippableFact]
    public void CudaIndexBeyondTheDeviceCountIsRejected()
    {
        Skip.IfNot(torch.cuda.is_available(), "needs a CUDA build of TorchSharp and a GPU");
        var count = torch.cuda.device_count();
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve($"cuda:{count}"));
        Assert.Contains($"only {count} CUDA device", error.Message);
        Assert.Equal(0, DeviceSelector.Resolve("cuda:0").index);
    }

    [Theory]
    [InlineData("cuda:")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:01")]
    [InlineData("cuda:1.5")]
    public void MalformedCudaIndexIsRejectedBeforeLookingForCuda(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve(name));
        Assert.Contains("non-negative integer", error.Message);
    }

    [SkippableFact]
    public void MpsWithoutMpsIsExplained()
    {
        Skip.If(torch.mps_is_available(), "MPS is available here");
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve("mps"));
        Assert.Contains("Apple silicon", error.Message);
    }

    [Theory]
    [InlineData("npu")]
    [InlineData("NPU")]
    [InlineData("npu:0")]
    public void NpuIsRefusedWithTheReason(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve(name));
        Assert.Contains("Ascend", error.Message);
        Assert.Contains("use cpu or cuda", error.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("")]
    [InlineData("tpu")]
    public void UnknownNamesListTheValidOnes(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve(name));
        Assert.Contains("unknown device", error.Message);
        foreach (var valid in DeviceSelector.ValidNames) Assert.Contains(valid, error.Message);
    }

    [Fact]
    public void SetThreadsChangesTheIntraOpThreadCountAndRejectsZero()
    {
        var before = torch.get_num_threads();
        try
        {
            DeviceSelector.SetThreads(1);
            Assert.Equal(1, torch.get_num_threads());
            Assert.Throws<ArgumentOutOfRangeException>(() => DeviceSelector.SetThreads(0));
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }
}
