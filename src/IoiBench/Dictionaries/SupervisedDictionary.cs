using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Dictionaries;

/// <summary>
/// The supervised feature dictionary of one node in the "independent" parametrisation (Makelov et al. 2024;
/// docs/method.md, "Supervised dictionaries"): the mean activation μ, and for each attribute f ∈ {IO, S, Pos} and value v the conditional mean
/// of the centred activation, u_f[v] = mean over {p : f(p) = v} of (a_p − μ), each attribute fitted independently.
/// A prompt's reconstruction is â = μ + u_IO[IO] + u_S[S] + u_Pos[Pos].
/// </summary>
public sealed class SupervisedDictionary
{
    private readonly Dictionary<IoiAttribute, Dictionary<string, float[]>> _codes;

    public SiteNode Node { get; }
    public float[] Mean { get; }
    public int Dimension => Mean.Length;

    private SupervisedDictionary(SiteNode node, float[] mean, Dictionary<IoiAttribute, Dictionary<string, float[]>> codes)
    {
        Node = node;
        Mean = mean;
        _codes = codes;
    }

    /// <summary>The values an attribute took in the fitting prompts.</summary>
    public IReadOnlyCollection<string> Values(IoiAttribute attribute) => _codes[attribute].Keys;

    /// <summary>Every u_f[v] of an attribute, by value.</summary>
    public IReadOnlyDictionary<string, float[]> Codes(IoiAttribute attribute) => _codes[attribute];

    /// <summary>u_f[v]; an error if the value never occurred in the fitting prompts.</summary>
    public ReadOnlySpan<float> Code(IoiAttribute attribute, string value) =>
        _codes[attribute].TryGetValue(value, out var code) ? code
            : throw new InvalidInputException($"{Node}: the supervised dictionary has no {attribute} code for '{value}' (it never occurs in the train split).");

    /// <summary>Fits μ and the codes from activations [prompts, d] and the prompts they were read from (in the same order).</summary>
    public static SupervisedDictionary Fit(SiteNode node, Tensor activations, IReadOnlyList<IoiPrompt> prompts)
    {
        int n = activations.Shape[0], d = activations.Shape[1];
        if (n != prompts.Count) throw new ArgumentException($"{n} activations for {prompts.Count} prompts.");
        if (n == 0) throw new ArgumentException("A supervised dictionary needs at least one prompt.");

        var mean = new double[d];
        for (int p = 0; p < n; p++)
        {
            var row = activations.Row(p);
            for (int c = 0; c < d; c++) mean[c] += row[c];
        }
        for (int c = 0; c < d; c++) mean[c] /= n;

        var codes = new Dictionary<IoiAttribute, Dictionary<string, float[]>>();
        foreach (var attribute in Enum.GetValues<IoiAttribute>())
        {
            var sums = new Dictionary<string, (double[] Sum, int Count)>(StringComparer.Ordinal);
            for (int p = 0; p < n; p++)
            {
                string value = prompts[p].ValueOf(attribute);
                if (!sums.TryGetValue(value, out var entry)) entry = (new double[d], 0);
                var row = activations.Row(p);
                for (int c = 0; c < d; c++) entry.Sum[c] += row[c] - mean[c];
                sums[value] = (entry.Sum, entry.Count + 1);
            }
            codes[attribute] = sums.ToDictionary(e => e.Key, e => e.Value.Sum.Select(x => (float)(x / e.Value.Count)).ToArray(), StringComparer.Ordinal);
        }
        return new SupervisedDictionary(node, mean.Select(x => (float)x).ToArray(), codes);
    }

    /// <summary>â − μ = u_IO[IO] + u_S[S] + u_Pos[Pos].</summary>
    public float[] CentredReconstruction(IoiPrompt prompt)
    {
        var r = new float[Dimension];
        foreach (var attribute in Enum.GetValues<IoiAttribute>())
            System.Numerics.Tensors.TensorPrimitives.Add(r, Code(attribute, prompt.ValueOf(attribute)), r);
        return r;
    }

    public float[] Reconstruct(IoiPrompt prompt)
    {
        var r = CentredReconstruction(prompt);
        System.Numerics.Tensors.TensorPrimitives.Add(r, Mean, r);
        return r;
    }

    /// <summary>
    /// The weight of each attribute in a prompt's reconstruction, w_f = ⟨u_f, r⟩ / ‖r‖² with r = â − μ; the three
    /// weights sum to 1 (all NaN when r = 0).
    /// </summary>
    public IReadOnlyDictionary<IoiAttribute, double> Weights(IoiPrompt prompt)
    {
        var r = CentredReconstruction(prompt);
        double norm2 = Dot(r, r);
        return Enum.GetValues<IoiAttribute>().ToDictionary(a => a, a => Dot(Code(a, prompt.ValueOf(a)), r) / norm2);
    }

    /// <summary>The supervised edit (feature arithmetic): a' = a − u_f[from] + u_f[to].</summary>
    public void Edit(Span<float> activation, IoiAttribute attribute, string from, string to)
    {
        System.Numerics.Tensors.TensorPrimitives.Subtract(activation, Code(attribute, from), activation);
        System.Numerics.Tensors.TensorPrimitives.Add(activation, Code(attribute, to), activation);
    }

    private static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += (double)x[i] * y[i];
        return sum;
    }
}
