using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Devices;

/// <summary>
/// A CUDA graph: the kernels that <see cref="Capture"/> records once, launched again by <see cref="Replay"/> with one
/// host call, on the same memory. On a small model the host takes longer to issue a training step's thousands of
/// kernels than the GPU takes to run them; replayed, the GPU runs them back to back. This is PyTorch's
/// <c>torch.cuda.CUDAGraph</c>: libtorch's own <c>at::cuda::CUDAGraph</c>, which keeps the captured work's memory in a
/// private pool of its caching allocator.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 binds no CUDA graph, so the few libtorch functions it takes are called by their C++ (Itanium ABI)
/// names in the CUDA libtorch the process has loaded. A captured region must not wait for the device (no
/// <c>item</c>, no <c>nonzero</c>, no copy to the host) and must see the same shapes at every replay; its inputs are
/// tensors allocated before the capture, which the caller overwrites before each replay.
/// </remarks>
public sealed unsafe class CudaGraph : IDisposable
{
    // at::cuda::CUDAGraph is a C++ object whose size libtorch does not export: 16 KiB is far above what it holds.
    const int ObjectBytes = 16 * 1024;
    // cudaStreamCaptureModeGlobal, PyTorch's default: no thread may make a call that is unsafe during a capture.
    const int CaptureModeGlobal = 0;

    IntPtr graph;

    CudaGraph(IntPtr graph) => this.graph = graph;

    /// <summary>
    /// Runs <paramref name="warmup"/>, then records <paramref name="work"/>, both on the process's capture stream of
    /// <paramref name="device"/> (the default stream cannot be captured), and returns the graph; what
    /// <paramref name="work"/> records runs only at <see cref="Replay"/>. The tensors <paramref name="work"/> keeps are
    /// the graph's outputs: each replay writes them again.
    /// </summary>
    /// <remarks>
    /// As <c>torch.cuda.graph</c>: one capture stream for every capture, the warm-up on it too (libtorch sets up cuBLAS
    /// per stream, and TorchScript compiles its fused kernels at a function's second call), and a garbage collection
    /// before the capture. Autograd adds a gradient on the stream where the parameter's AccumulateGrad node was made;
    /// a node made on another stream and still alive, through a tensor left to the finalizer, would make the capture
    /// wait for that stream, which ends it. libtorch reports a failed capture with a C++ exception, which ends the
    /// process with its message.
    /// </remarks>
    public static CudaGraph Capture(Device device, Action warmup, Action work)
    {
        if (device.type != DeviceType.CUDA)
            throw new ArgumentException($"a CUDA graph needs a CUDA device (got {device})", nameof(device));
        var native = Natives.Value;
        var index = (sbyte)Math.Max(device.index, 0);
        var memory = (IntPtr)NativeMemory.AllocZeroed(ObjectBytes);
        native.Construct(memory, 0);
        var captured = new CudaGraph(memory);
        try
        {
            torch.cuda.synchronize(device);
            using (CaptureStream.Enter(native, index))
            {
                warmup();
                torch.cuda.synchronize(device);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                native.CaptureBegin(memory, 0, 0, CaptureModeGlobal, 0);
                try
                {
                    work();
                }
                catch (Exception e)
                {
                    // Ending a broken capture throws in C++, which ends the process: say first what broke it.
                    Console.Error.WriteLine($"error: CUDA graph capture failed: {e.Message}");
                    throw;
                }
                finally
                {
                    native.CaptureEnd(memory);
                }
            }
            torch.cuda.synchronize(device);
            return captured;
        }
        catch
        {
            captured.Dispose();
            throw;
        }
    }

    /// <summary>Launches the captured kernels on the current stream.</summary>
    public void Replay()
    {
        ObjectDisposedException.ThrowIf(graph == IntPtr.Zero, this);
        Natives.Value.Replay(graph);
    }

    public void Dispose()
    {
        if (graph == IntPtr.Zero) return;
        Natives.Value.Destruct(graph);
        NativeMemory.Free((void*)graph);
        graph = IntPtr.Zero;
    }

    /// <summary>c10::cuda::CUDAStream by value: its c10::Stream, a device (type, index) and a 64-bit id.</summary>
    [StructLayout(LayoutKind.Sequential)]
    readonly struct NativeStream
    {
        readonly long device;
        readonly long id;
    }

    /// <summary>
    /// Makes the device's capture stream (one per device, taken from libtorch's pool once) the thread's current stream,
    /// and the previous one current again on dispose.
    /// </summary>
    sealed class CaptureStream(Bindings native, NativeStream previous) : IDisposable
    {
        static readonly ConcurrentDictionary<sbyte, NativeStream> Streams = new();

        public static CaptureStream Enter(Bindings native, sbyte device)
        {
            var previous = native.CurrentStream(device);
            native.SetCurrentStream(Streams.GetOrAdd(device, d => native.StreamFromPool(0, d)));
            return new CaptureStream(native, previous);
        }

        public void Dispose() => native.SetCurrentStream(previous);
    }

    static readonly Lazy<Bindings> Natives = new(Bindings.Load);

    /// <summary>The libtorch functions, found by their mangled names in the loaded CUDA libtorch.</summary>
    sealed class Bindings
    {
        public required delegate* unmanaged<IntPtr, byte, void> Construct;
        public required delegate* unmanaged<IntPtr, void> Destruct;
        // MempoolId_t (a pair of unsigned long long: {0, 0} = a private pool of its own) and cudaStreamCaptureMode
        public required delegate* unmanaged<IntPtr, ulong, ulong, int, byte, void> CaptureBegin;
        public required delegate* unmanaged<IntPtr, void> CaptureEnd;
        public required delegate* unmanaged<IntPtr, void> Replay;
        public required delegate* unmanaged<byte, sbyte, NativeStream> StreamFromPool;
        public required delegate* unmanaged<sbyte, NativeStream> CurrentStream;
        public required delegate* unmanaged<NativeStream, void> SetCurrentStream;

        public static Bindings Load()
        {
            var folder = LibTorchNatives.LoadedLibTorchFolder()
                ?? throw new InvalidOperationException("CUDA graphs: libtorch is not loaded yet");
            var torchCuda = Open(folder, "libtorch_cuda.so");
            var c10Cuda = Open(folder, "libc10_cuda.so");
            return new Bindings
            {
                // CUDAGraph(bool keep_graph = false) since libtorch 2.8 (a C++ bool travels as a byte); before, none
                Construct = (delegate* unmanaged<IntPtr, byte, void>)Export(torchCuda,
                    "_ZN2at4cuda9CUDAGraphC1Eb", "_ZN2at4cuda9CUDAGraphC1Ev"),
                Destruct = (delegate* unmanaged<IntPtr, void>)Export(torchCuda, "_ZN2at4cuda9CUDAGraphD1Ev"),
                // Some builds add a third argument, bool dynamic_graph: the call passes false for it either way
                CaptureBegin = (delegate* unmanaged<IntPtr, ulong, ulong, int, byte, void>)Export(torchCuda,
                    "_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE21cudaStreamCaptureMode",
                    "_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE21cudaStreamCaptureModeb"),
                CaptureEnd = (delegate* unmanaged<IntPtr, void>)Export(torchCuda,
                    "_ZN2at4cuda9CUDAGraph11capture_endEv"),
                Replay = (delegate* unmanaged<IntPtr, void>)Export(torchCuda, "_ZN2at4cuda9CUDAGraph6replayEv"),
                StreamFromPool = (delegate* unmanaged<byte, sbyte, NativeStream>)Export(c10Cuda,
                    "_ZN3c104cuda17getStreamFromPoolEba"),
                CurrentStream = (delegate* unmanaged<sbyte, NativeStream>)Export(c10Cuda,
                    "_ZN3c104cuda20getCurrentCUDAStreamEa"),
                SetCurrentStream = (delegate* unmanaged<NativeStream, void>)Export(c10Cuda,
                    "_ZN3c104cuda20setCurrentCUDAStreamENS0_10CUDAStreamE"),
            };
        }

        static IntPtr Open(string folder, string file)
        {
            var path = Path.Combine(folder, file);
            return NativeLibrary.TryLoad(path, out var handle) ? handle : throw new InvalidOperationException(
                $"CUDA graphs need a CUDA build of libtorch: {path} is missing (see moelpr doctor)");
        }

        /// <summary>The first of <paramref name="names"/> found (one function's names in several libtorch versions).
        /// </summary>
        static IntPtr Export(IntPtr library, params string[] names)
        {
            foreach (var name in names)
                if (NativeLibrary.TryGetExport(library, name, out var address)) return address;
            throw new EntryPointNotFoundException(
                $"CUDA graphs: the loaded libtorch ({LibTorchNatives.LoadedVersion()}) has no {names[0]}; the kit " +
                $"calls the CUDAGraph of libtorch {LibTorchNatives.BuiltForLibTorch}");
        }
    }
}
