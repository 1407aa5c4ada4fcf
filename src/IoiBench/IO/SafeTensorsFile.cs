using System.IO.MemoryMappedFiles;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using System.Text.Json;
using IoiBench.Numerics;

namespace IoiBench.IO;

/// <summary>One tensor's entry in a safetensors header; offsets are relative to the data section.</summary>
public sealed record SafeTensorInfo(string Name, string DType, int[] Shape, long Begin, long End);

/// <summary>
/// A memory-mapped safetensors file (8-byte little-endian header length, JSON header, data section).
/// The header is validated completely on open; any defect raises <see cref="InvalidInputException"/> naming
/// the file and the tensor. F32, F16 and BF16 tensors read into float32; a NaN or infinity in one is an error too.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L << 20;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyCollection<SafeTensorInfo> Tensors => _tensors.Values;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart,
        Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _dataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8) throw new InvalidInputException($"{path}: too short to be a safetensors file ({fileLength} bytes).");

        byte[] header;
        using (var stream = File.OpenRead(path))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BitConverter.ToUInt64(lengthBytes);
            if (headerLength > (ulong)(fileLength - 8))
                throw new InvalidInputException($"{path}: header length {headerLength} runs past the end of the file ({fileLength} bytes).");
            if (headerLength > MaxHeaderBytes)
                throw new InvalidInputException($"{path}: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }

        long dataStart = 8 + header.Length;
        var (tensors, metadata) = ParseHeader(path, header, fileLength - dataStart);
        if (metadata.TryGetValue(SafeTensorsWriter.ChecksumKey, out string? checksum)) VerifyChecksum(path, dataStart, checksum);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        return new SafeTensorsFile(path, map, view, dataStart, tensors, metadata);
    }

    /// <summary>The data section against the SHA-256 that IoiBench wrote into the header (files from other tools have none).</summary>
    private static void VerifyChecksum(string path, long dataStart, string expected)
    {
        using var stream = File.OpenRead(path);
        stream.Seek(dataStart, SeekOrigin.Begin);
        string actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        if (actual != expected)
            throw new InvalidInputException($"{path}: the data does not match the checksum in its header; the file is damaged.");
    }

    private static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidInputException($"{path}: header is not valid JSON ({e.Message}).", e); }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException($"{path}: header must be a JSON object.");
            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidInputException($"{path}: __metadata__ must be an object of strings.");
                    foreach (var entry in property.Value.EnumerateObject())
                        metadata[entry.Name] = entry.Value.ValueKind == JsonValueKind.String
                            ? entry.Value.GetString()!
                            : throw new InvalidInputException($"{path}: __metadata__ value '{entry.Name}' is not a string.");
                    continue;
                }
                tensors[property.Name] = ParseEntry(path, property.Name, property.Value, dataLength);
            }
            CheckNoOverlap(path, tensors.Values);
            return (tensors, metadata);
        }
    }

    private static SafeTensorInfo ParseEntry(string path, string name, JsonElement entry, long dataLength)
    {
        string Where() => $"{path}: tensor '{name}'";
        if (entry.ValueKind != JsonValueKind.Object) throw new InvalidInputException($"{Where()}: entry is not an object.");
        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidInputException($"{Where()}: missing string field 'dtype'.");
        string dtype = dtypeElement.GetString()!;
        if (!SafeTensorsDType.TryGetSize(dtype, out int elementSize))
            throw new InvalidInputException($"{Where()}: unknown dtype '{dtype}'.");
        if (!entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidInputException($"{Where()}: missing array field 'shape'.");
        var shape = new List<int>();
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int d) || d < 0)
                throw new InvalidInputException($"{Where()}: shape entries must be non-negative integers.");
            shape.Add(d);
        }
        if (!entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end))
            throw new InvalidInputException($"{Where()}: 'data_offsets' must be two integers [begin, end].");
        if (begin < 0 || end < begin || end > dataLength)
            throw new InvalidInputException($"{Where()}: data_offsets [{begin}, {end}] lie outside the data section of {dataLength} bytes.");
        long elements = 1;
        foreach (int d in shape) elements = checked(elements * d);
        if (elements * elementSize != end - begin)
            throw new InvalidInputException($"{Where()}: shape [{string.Join(", ", shape)}] of {dtype} needs {elements * elementSize} bytes but data_offsets span {end - begin}.");
        return new SafeTensorInfo(name, dtype, shape.ToArray(), begin, end);
    }

    private static void CheckNoOverlap(string path, IEnumerable<SafeTensorInfo> tensors)
    {
        SafeTensorInfo? previous = null;
        foreach (var t in tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin))
        {
            if (previous is not null && t.Begin < previous.End)
                throw new InvalidInputException($"{path}: tensors '{previous.Name}' [{previous.Begin}, {previous.End}) and '{t.Name}' [{t.Begin}, {t.End}) overlap.");
            previous = t;
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafeTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new InvalidInputException($"{Path}: no tensor named '{name}'.");

    /// <summary>Reads an F32, F16 or BF16 tensor into a new float32 tensor.</summary>
    public Tensor ReadFloat32(string name)
    {
        var info = Info(name);
        if (!SafeTensorsDType.IsFloat(info.DType))
            throw new InvalidInputException($"{Path}: tensor '{name}' has dtype {info.DType}; only F32, F16 and BF16 can be read as floats.");
        var result = new Tensor(info.Shape);
        var destination = result.Span;
        byte* source = _base + _dataStart + info.Begin;
        int count = destination.Length;
        switch (info.DType)
        {
            case "F32":
                new ReadOnlySpan<float>(source, count).CopyTo(destination);
                break;
            case "F16":
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(source, count), destination);
                break;
            case "BF16":
                var bits = new ReadOnlySpan<ushort>(source, count);
                var wide = MemoryMarshal.Cast<float, uint>(destination);
                for (int i = 0; i < count; i++) wide[i] = (uint)bits[i] << 16;
                break;
        }
        if (FiniteValues.FirstNonFinite(destination) is { } bad)
            throw new InvalidInputException($"{Path}: tensor '{name}' holds {destination[bad]} at flat index {bad}; IoiBench reads finite numbers only.");
        return result;
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
