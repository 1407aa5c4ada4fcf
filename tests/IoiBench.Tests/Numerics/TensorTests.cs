using IoiBench.Numerics;

namespace IoiBench.Tests.Numerics;

public class TensorTests
{
    [Fact]
    public void ReshapeAndSliceAreViewsOfTheSameBuffer()
    {
        var t = Tensor.From(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var matrix = t.Reshape(-1, 4);
        Assert.Equal([6, 4], matrix.Shape);
        var slice = matrix.Slice(2, 3);
        Assert.Equal([3, 4], slice.Shape);
        Assert.Equal(8f, slice.Span[0]);
        slice.Row(1)[2] = -1f;                     // matrix row 3, column 2 = flat index 14
        Assert.Equal(-1f, t.Span[14]);
        Assert.Equal(12f, t.Slice(1, 1).Span[0]); // the second [3, 4] block starts at flat index 12
    }

    [Fact]
    public void RowsGathersACopyInTheIndicesOrder()
    {
        var t = Tensor.From([0f, 1f, 10f, 11f, 20f, 21f], 3, 2);
        var rows = t.Rows([2, 0, 2]);
        Assert.Equal([3, 2], rows.Shape);
        Assert.Equal([20f, 21f, 0f, 1f, 20f, 21f], rows.Span.ToArray());
        rows.Row(0)[0] = -1f;
        Assert.Equal(20f, t.Row(2)[0]);
    }

    [Fact]
    public void CloneSharesNothing()
    {
        var t = Tensor.From([1f, 2f, 3f, 4f], 2, 2);
        var copy = t.Clone();
        copy.Span[0] = 9f;
        Assert.Equal(1f, t.Span[0]);
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Tensor.From(new float[5], 2, 3));
        Assert.Throws<ArgumentException>(() => Tensor.From(new float[6], 2, 3).Reshape(4, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.From(new float[6], 2, 3).Slice(1, 2));
    }
}
