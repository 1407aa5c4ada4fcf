using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>Adam (Kingma &amp; Ba) over an SAE's named parameters, without weight decay, as in the reference.</summary>
public sealed class Adam(SaeParameters parameters, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
{
    private readonly SaeParameters _m = parameters.ZerosLike(), _v = parameters.ZerosLike();

    public int Steps { get; private set; }
    public float Beta1 => beta1;
    public float Beta2 => beta2;
    public float Epsilon => epsilon;

    /// <summary>1 − β^t, the bias correction of a moment after <paramref name="steps"/> steps.</summary>
    public static float Correction(float beta, int steps) => 1 - MathF.Pow(beta, steps);

    /// <summary>The first and second moment estimates of a parameter (for inspection).</summary>
    internal (Numerics.Tensor First, Numerics.Tensor Second) Moments(string name) => (_m[name], _v[name]);

    public void Step(SaeParameters gradients, float learningRate)
    {
        Steps++;
        float correction1 = Correction(beta1, Steps), correction2 = Correction(beta2, Steps);
        foreach (var (name, parameter) in parameters.Tensors)
        {
            var g = gradients[name].Span;
            var m = _m[name].Span;
            var v = _v[name].Span;
            var p = parameter.Span;
            for (int i = 0; i < p.Length; i++)
            {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                p[i] -= learningRate * (m[i] / correction1) / (MathF.Sqrt(v[i] / correction2) + epsilon);
            }
        }
    }

    /// <summary>The step count and both moments as named tensors ("m.NAME", "v.NAME"), for resumable training.</summary>
    internal IEnumerable<KeyValuePair<string, Numerics.Tensor>> State() =>
        _m.Tensors.Select(p => KeyValuePair.Create("m." + p.Key, p.Value))
            .Concat(_v.Tensors.Select(p => KeyValuePair.Create("v." + p.Key, p.Value)));

    /// <summary>Restores what <see cref="State"/> saved.</summary>
    internal void Restore(int steps, Func<string, Numerics.Tensor> read)
    {
        Steps = steps;
        foreach (var (name, tensor) in _m.Tensors) read("m." + name).Span.CopyTo(tensor.Span);
        foreach (var (name, tensor) in _v.Tensors) read("v." + name).Span.CopyTo(tensor.Span);
    }

    /// <summary>Zeroes both moments of the given entries (after resampling them); the step count stays.</summary>
    public void ResetMoments(string name, IEnumerable<int> flatIndices)
    {
        foreach (int i in flatIndices)
        {
            _m[name].Span[i] = 0;
            _v[name].Span[i] = 0;
        }
    }
}
