namespace IoiBench;

/// <summary>
/// Progress of a long step: <see cref="Done"/> of <see cref="Total"/> units of <see cref="Stage"/>, with an optional
/// line of detail (e.g. throughput).
/// </summary>
public readonly record struct ProgressUpdate(string Stage, long Done, long Total, string? Detail = null);
