using System.Text;
using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Tests.IO;

public class SafeTensorsTests
{
    private static void WriteRaw(string path, string header, byte[] data, ulong? declaredLength = null)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes(declaredLength ?? (ulong)headerBytes.Length));
        stream.Write(headerBytes);
        stream.Write(data);
    }

    private static InvalidInputException OpenFails(string path) =>
        Assert.Throws<InvalidInputException>(() => SafeTensorsFile.Open(path).Dispose());

    [Fact]
    public void WriteThenReadRoundTripsExactly()
    {
        using var dir = new TestPaths.TempDirectory();
        var a = Tensor.From([1.5f, -2f, float.Epsilon, 3e38f, 0f, -0f], 2, 3);
        var b = Tensor.From([42f], 1);
        string path = dir.File("x.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["b"] = b, ["a"] = a }, new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        var back = file.ReadFloat32("a");
        Assert.Equal([2, 3], back.Shape);
        Assert.Equal(a.Span.ToArray(), back.Span.ToArray());
        Assert.Equal([42f], file.ReadFloat32("b").Span.ToArray());
        Assert.Single(Directory.GetFiles(dir.Path));
        Assert.Equal(0UL, BitConverter.ToUInt64(File.ReadAllBytes(path), 0) % 8); // header padded to 8 bytes
    }

    [Fact]
    public void HalfAndBFloat16ConvertToFloat32()
    {
        using var dir = new TestPaths.TempDirectory();
        var halves = new[] { (Half)1.5f, (Half)(-0.25f), (Half)65504f };
        var halfBytes = halves.SelectMany(h => BitConverter.GetBytes(h)).ToArray();
        // bfloat16 is the top half of a float32: 1.0f = 0x3F80, -2.5f = 0xC020.
        var bf16Bytes = new ushort[] { 0x3F80, 0xC020 }.SelectMany(BitConverter.GetBytes).ToArray();
        string path = dir.File("mixed.safetensors");
        WriteRaw(path, "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]}}",
            [.. halfBytes, .. bf16Bytes]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal([1.5f, -0.25f, 65504f], file.ReadFloat32("h").Span.ToArray());
        Assert.Equal([1f, -2.5f], file.ReadFloat32("b").Span.ToArray());
    }

    [Fact]
    public void HeaderLengthPastTheEndIsReported()
    {
        using var dir = new TestPaths.TempDirectory();
        string path = dir.File("long.safetensors");
        WriteRaw(path, "{}", [], declaredLength: 1000);
        var e = OpenFails(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void TruncatedFileIsReported()
    {
        using var dir = new TestPaths.TempDirectory();
        string path = dir.File("tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", OpenFails(path).Message);
    }

    [Fact]
    public void InvalidJsonIsReported()
    {
        using var dir = new TestPaths.TempDirectory();
        string path = dir.File("json.safetensors");
        WriteRaw(path, "{\"a\": {", []);
        Assert.Contains("not valid JSON", OpenFails(path).Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "outside the data section")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [InlineData("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'Q4'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "missing array field 'shape'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "outside the data section")]
    public void DefectiveEntriesNameTheFileAndTensor(string header, int dataBytes, string expected)
    {
        using var dir = new TestPaths.TempDirectory();
        string path = dir.File("bad.safetensors");
        WriteRaw(path, header, new byte[dataBytes]);
        var e = OpenFails(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("'w'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void OverlappingTensorsAreReported()
    {
        using var dir = new TestPaths.TempDirectory();
        string path = dir.File("overlap.safetensors");
        WriteRaw(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        var e = OpenFails(path);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("'b'", e.Message);
        Assert.Contains("overlap", e.Message);
    }

    [Fact]
    public void MissingAndNonFloatTensorsAreReportedOnRead()
    {
        using var dir = new TestPaths.TempDirectory();
        string path = dir.File("ints.safetensors");
        WriteRaw(path, "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        using var file = SafeTensorsFile.Open(path);
        var missing = Assert.Throws<InvalidInputException>(() => file.ReadFloat32("weights"));
        Assert.Contains("no tensor named 'weights'", missing.Message);
        Assert.Contains(path, missing.Message);
        Assert.Contains("I64", Assert.Throws<InvalidInputException>(() => file.ReadFloat32("ids")).Message);
    }

    [Fact]
    public void AFailedAtomicWriteLeavesNothingBehind()
    {
        using var dir = new TestPaths.TempDirectory();
        string path = dir.File("out.bin");
        File.WriteAllText(path, "previous");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.WriteByte(1);
            throw new IOException("disk full");
        }));
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
