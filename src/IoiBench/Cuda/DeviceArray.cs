using System.Runtime.CompilerServices;

namespace IoiBench.Cuda;

/// <summary>A zero-initialised array of <typeparamref name="T"/> in GPU memory, freed on Dispose.</summary>
internal sealed class DeviceArray<T> : IDisposable where T : unmanaged
{
    private static readonly int ElementSize = Unsafe.SizeOf<T>();

    public ulong Pointer { get; private set; }
    public long Length { get; }

    public DeviceArray(long length)
    {
        Length = length;
        Pointer = CudaDriver.Allocate(Math.Max(length, 1) * ElementSize);
        Clear();
    }

    /// <summary>The device address of element <paramref name="index"/>.</summary>
    public ulong At(long index) => Pointer + (ulong)(index * ElementSize);

    public void Upload(ReadOnlySpan<T> source, long offset = 0) => CudaDriver.CopyToDevice(At(offset), source);

    /// <summary>Copies from the device into <paramref name="destination"/>; waits for the work queued before it.</summary>
    public void Download(Span<T> destination, long offset = 0) => CudaDriver.CopyToHost(destination, At(offset));

    public T[] Download()
    {
        var values = new T[Length];
        Download(values);
        return values;
    }

    public void Clear() => CudaDriver.Clear(Pointer, Math.Max(Length, 1) * ElementSize);

    public void Dispose()
    {
        if (Pointer == 0) return;
        CudaDriver.Free(Pointer);
        Pointer = 0;
    }
}
