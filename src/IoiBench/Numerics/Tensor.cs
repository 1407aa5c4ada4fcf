namespace IoiBench.Numerics;

/// <summary>
/// A contiguous, row-major float32 tensor. Reshapes and slices along the first axis are views
/// that share the buffer; everything else copies.
/// </summary>
public sealed class Tensor
{
    public float[] Buffer { get; }
    public int Offset { get; }
    public int[] Shape { get; }
    public int Length { get; }

    public Tensor(params int[] shape) : this(new float[CheckedProduct(shape)], 0, shape) { }

    public Tensor(float[] buffer, int offset, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        int length = CheckedProduct(shape);
        if (offset < 0 || offset + length > buffer.Length)
            throw new ArgumentException($"A tensor of shape [{string.Join(", ", shape)}] at offset {offset} does not fit a buffer of {buffer.Length} floats.");
        Buffer = buffer;
        Offset = offset;
        Shape = (int[])shape.Clone();
        Length = length;
    }

    /// <summary>Wraps an array (no copy).</summary>
    public static Tensor From(float[] data, params int[] shape)
    {
        if (CheckedProduct(shape) != data.Length)
            throw new ArgumentException($"{data.Length} floats cannot have shape [{string.Join(", ", shape)}].");
        return new Tensor(data, 0, shape);
    }

    public int Rank => Shape.Length;
    public Span<float> Span => Buffer.AsSpan(Offset, Length);

    /// <summary>Size of axis <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => Shape[axis < 0 ? Shape.Length + axis : axis];

    /// <summary>A view with another shape; one axis may be -1 (inferred).</summary>
    public Tensor Reshape(params int[] shape)
    {
        int inferred = Array.IndexOf(shape, -1);
        if (inferred >= 0)
        {
            shape = (int[])shape.Clone();
            shape[inferred] = 1;
            int rest = CheckedProduct(shape);
            if (rest == 0 || Length % rest != 0)
                throw new ArgumentException($"Cannot reshape [{string.Join(", ", Shape)}] to [{string.Join(", ", shape)}].");
            shape[inferred] = Length / rest;
        }
        if (CheckedProduct(shape) != Length)
            throw new ArgumentException($"Cannot reshape [{string.Join(", ", Shape)}] to [{string.Join(", ", shape)}].");
        return new Tensor(Buffer, Offset, shape);
    }

    /// <summary>A view of <paramref name="count"/> entries along the first axis, starting at <paramref name="start"/>.</summary>
    public Tensor Slice(int start, int count)
    {
        if (Rank == 0 || start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + count}) is outside axis 0 of size {(Rank == 0 ? 0 : Shape[0])}.");
        int inner = Rank == 1 ? 1 : Length / Shape[0];
        var shape = (int[])Shape.Clone();
        shape[0] = count;
        return new Tensor(Buffer, Offset + start * inner, shape);
    }

    /// <summary>Row <paramref name="index"/> of a rank-2 tensor.</summary>
    public Span<float> Row(int index)
    {
        if (Rank != 2) throw new InvalidOperationException($"Row() needs a rank-2 tensor, this one has shape [{string.Join(", ", Shape)}].");
        if ((uint)index >= (uint)Shape[0]) throw new ArgumentOutOfRangeException(nameof(index));
        return Buffer.AsSpan(Offset + index * Shape[1], Shape[1]);
    }

    /// <summary>A new rank-2 tensor of the rows at <paramref name="indices"/>, in their order.</summary>
    public Tensor Rows(IReadOnlyList<int> indices)
    {
        var rows = new Tensor(indices.Count, Shape[1]);
        for (int r = 0; r < indices.Count; r++) Row(indices[r]).CopyTo(rows.Row(r));
        return rows;
    }

    public Tensor Clone() => From(Span.ToArray(), Shape);

    public override string ToString() => $"Tensor[{string.Join(", ", Shape)}]";

    internal static int CheckedProduct(ReadOnlySpan<int> shape)
    {
        long product = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension {d} in shape.");
            product *= d;
            if (product > Array.MaxLength) throw new ArgumentException("Tensor too large for one buffer.");
        }
        return (int)product;
    }
}
