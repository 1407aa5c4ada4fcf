using IoiBench.Model;
using IoiBench.Prompts;

namespace IoiBench.Tests;

/// <summary>A small IOI dataset in the tiny random model's vocabulary (Fixtures/tiny-prompts).</summary>
internal static class TinyDataset
{
    public static string PromptsDirectory => Path.Combine(TestPaths.Fixtures, "tiny-prompts");
    public static readonly Lazy<LoadedModel> Model = new(() => ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Processed));
    public static readonly DatasetOptions Options = new(Train: 60, Validation: 12, Test: 30, Seed: 3);

    public static IoiDataset Generate(DatasetOptions? options = null) =>
        IoiDataset.Generate(PromptLibrary.Load(PromptsDirectory), Model.Value.Tokenizer, options ?? Options);
}
