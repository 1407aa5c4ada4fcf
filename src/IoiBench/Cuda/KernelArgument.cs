namespace IoiBench.Cuda;

/// <summary>
/// One kernel parameter's value, held in 8 bytes (little-endian, so a 4-byte int or float sits at the start): the
/// driver reads each parameter through a pointer to its value.
/// </summary>
internal readonly struct KernelArgument
{
    private readonly ulong _bits;

    private KernelArgument(ulong bits) => _bits = bits;

    public static implicit operator KernelArgument(ulong devicePointer) => new(devicePointer);
    public static implicit operator KernelArgument(long value) => new((ulong)value);
    public static implicit operator KernelArgument(int value) => new((uint)value);
    public static implicit operator KernelArgument(float value) => new(BitConverter.SingleToUInt32Bits(value));
}
