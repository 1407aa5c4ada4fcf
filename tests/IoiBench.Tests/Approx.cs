namespace IoiBench.Tests;

/// <summary>Float comparisons with a tolerance relative to the expected magnitude.</summary>
internal static class Approx
{
    public static void Equal(double expected, double actual, double tolerance = 1e-5, string what = "value") =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * (1 + Math.Abs(expected)), $"{what}: expected {expected}, got {actual}");

    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance = 1e-5, string what = "values")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Equal(expected[i], actual[i], tolerance, $"{what}[{i}]");
    }
}
