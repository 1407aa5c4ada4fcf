using System.Runtime.InteropServices;
using System.Text.Json;
using IoiBench.Numerics;

namespace IoiBench.IO;

/// <summary>
/// Writes float32 tensors as a safetensors file (tensors sorted by name, header padded to 8 bytes), atomically. The
/// header's metadata carries <see cref="ChecksumKey"/>, the SHA-256 of the data section, so that a damaged file is
/// found when it is read (<see cref="SafeTensorsFile.Open"/>); other tools ignore the entry.
/// </summary>
public static class SafeTensorsWriter
{
    public const string ChecksumKey = "ioibench_data_sha256";

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (string name in names) hash.AppendData(MemoryMarshal.AsBytes(tensors[name].Span));
        var withChecksum = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            [ChecksumKey] = Convert.ToHexStringLower(hash.GetHashAndReset()),
        };
        byte[] json = Header(names, tensors, withChecksum);
        int padded = (json.Length + 7) / 8 * 8;

        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)padded));
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (string name in names)
                stream.Write(MemoryMarshal.AsBytes(tensors[name].Span));
        });
    }

    private static byte[] Header(List<string> names, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (string name in names)
            {
                if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.");
                long bytes = (long)tensors[name].Length * sizeof(float);
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in tensors[name].Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
