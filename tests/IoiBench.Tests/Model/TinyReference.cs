using System.Text.Json;
using IoiBench.IO;
using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Tests.Model;

/// <summary>The PyTorch golden outputs for the tiny random GPT-2 (tools/make_tiny_gpt2.py).</summary>
internal sealed class TinyReference
{
    public static readonly Lazy<TinyReference> Instance = new(() => new TinyReference());

    public TokenBatch Tokens { get; }
    public Dictionary<string, Tensor> Tensors { get; } = [];
    public Dictionary<string, (HeadHook Hook, int Position)> Patches { get; } = [];

    private TinyReference()
    {
        using (var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "tiny-gpt2-reference.json"))))
        {
            var rows = document.RootElement.GetProperty("tokens").EnumerateArray()
                .Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToList();
            Tokens = TokenBatch.FromSequences(rows);
            foreach (var patch in document.RootElement.GetProperty("patches").EnumerateObject())
            {
                var p = patch.Value;
                var point = HookPoints.FromSiteName(p.GetProperty("hook").GetString()!)!.Value;
                Patches[patch.Name] = (new HeadHook(point, p.GetProperty("layer").GetInt32(), p.GetProperty("head").GetInt32()), p.GetProperty("position").GetInt32());
            }
        }
        using var file = SafeTensorsFile.Open(Path.Combine(TestPaths.Fixtures, "tiny-gpt2-reference.safetensors"));
        foreach (var info in file.Tensors) Tensors[info.Name] = file.ReadFloat32(info.Name);
    }

    /// <summary>Every position of every prompt, prompt-major: the layout Forward's logit rows use.</summary>
    public int[] AllPositions => Enumerable.Range(0, Tokens.Batch).SelectMany(_ => Enumerable.Range(0, Tokens.SeqLen)).ToArray();
}
