using IoiBench.Activations;
using IoiBench.Dictionaries;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>
/// The supervised dictionary at one node, on the test split's clean prompts: the explained variance of its
/// reconstructions â = μ + u_IO + u_S + u_Pos, the mean relative error ‖a − â‖ / ‖a‖, and each attribute's mean weight
/// w_f = ⟨u_f, â − μ⟩ / ‖â − μ‖² (prompts where â = μ left out).
/// </summary>
public sealed record DictionaryQuality(SiteNode Node, double ExplainedVariance, double RelativeError, double IoWeight, double SWeight,
    double PosWeight)
{
    public static DictionaryQuality Measure(SupervisedDictionary dictionary, SiteActivations test, IoiDataset dataset)
    {
        var activations = test.Get(dictionary.Node, PromptVariant.Clean);
        var prompts = dataset.Test.Take(activations.Shape[0]).Select(e => e.Clean.Prompt).ToList();
        var reconstructions = new Numerics.Tensor(activations.Shape);
        double relative = 0;
        var weights = new List<IReadOnlyDictionary<IoiAttribute, double>>();
        for (int p = 0; p < prompts.Count; p++)
        {
            dictionary.Reconstruct(prompts[p]).CopyTo(reconstructions.Row(p));
            double error = System.Numerics.Tensors.TensorPrimitives.Distance(activations.Row(p), reconstructions.Row(p));
            double norm = System.Numerics.Tensors.TensorPrimitives.Norm(activations.Row(p));
            relative += norm > 0 ? error / norm : 0;
            var w = dictionary.Weights(prompts[p]);
            if (w.Values.All(double.IsFinite)) weights.Add(w);
        }
        double Mean(IoiAttribute a) => weights.Count == 0 ? double.NaN : weights.Average(w => w[a]);
        return new DictionaryQuality(dictionary.Node, ReconstructionQuality.Measure(activations, reconstructions).ExplainedVariance,
            relative / prompts.Count, Mean(IoiAttribute.Io), Mean(IoiAttribute.S), Mean(IoiAttribute.Pos));
    }
}
