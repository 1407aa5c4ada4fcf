using IoiBench.IO;
using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Tests.Model;

public class ModelLoadingTests
{
    private static TestPaths.TempDirectory CopyOfTinyModel()
    {
        var dir = new TestPaths.TempDirectory();
        foreach (string file in Directory.GetFiles(TestPaths.TinyModel))
            File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        return dir;
    }

    [Fact]
    public void KeysWithoutTheTransformerPrefixAndWithoutLmHeadLoadTheSameModel()
    {
        using var dir = CopyOfTinyModel();
        var tensors = new Dictionary<string, Tensor>();
        using (var original = SafeTensorsFile.Open(Path.Combine(TestPaths.TinyModel, "model.safetensors")))
            foreach (var info in original.Tensors.Where(t => t.Name.StartsWith("transformer.") && !t.Name.EndsWith(".attn.bias")))
                tensors[info.Name["transformer.".Length..]] = original.ReadFloat32(info.Name);
        SafeTensorsWriter.Write(dir.File("model.safetensors"), tensors);

        var reference = TinyReference.Instance.Value;
        var logits = ModelDirectory.Load(dir.Path, ModelBasis.Raw).Model.Forward(reference.Tokens, reference.AllPositions);
        Approx.Equal(reference.Tensors["logits"].Span, logits.Span, 2e-5f, "logits");
    }

    [Fact]
    public void MissingConfigFieldIsNamed()
    {
        using var dir = CopyOfTinyModel();
        File.WriteAllText(dir.File("config.json"), "{\"n_layer\": 2, \"n_head\": 4, \"n_embd\": 32, \"vocab_size\": 44}");
        var e = Assert.Throws<InvalidInputException>(() => ModelDirectory.Load(dir.Path, ModelBasis.Raw));
        Assert.Contains("config.json", e.Message);
        Assert.Contains("'n_positions'", e.Message);
    }

    [Fact]
    public void TensorShapeMismatchNamesTheTensor()
    {
        using var dir = CopyOfTinyModel();
        File.WriteAllText(dir.File("config.json"),
            "{\"n_layer\": 2, \"n_head\": 4, \"n_embd\": 32, \"vocab_size\": 44, \"n_positions\": 24, \"n_inner\": 64}");
        var e = Assert.Throws<InvalidInputException>(() => ModelDirectory.Load(dir.Path, ModelBasis.Raw));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("'transformer.h.0.mlp.c_fc.weight'", e.Message);
    }

    [Fact]
    public void MissingDirectoryAndUnsupportedActivationAreReported()
    {
        Assert.Contains("not found", Assert.Throws<InvalidInputException>(() => ModelDirectory.Load("/nonexistent/model", ModelBasis.Raw)).Message);
        using var dir = CopyOfTinyModel();
        File.WriteAllText(dir.File("config.json"),
            "{\"n_layer\": 2, \"n_head\": 4, \"n_embd\": 32, \"vocab_size\": 44, \"n_positions\": 24, \"activation_function\": \"relu\"}");
        Assert.Contains("'activation_function'", Assert.Throws<InvalidInputException>(() => ModelDirectory.Load(dir.Path, ModelBasis.Raw)).Message);
    }

    [Fact]
    public void UnequalSequenceLengthsAreRejected() =>
        Assert.Throws<ArgumentException>(() => TokenBatch.FromSequences([[0, 1, 2], [0, 1]]));
}
