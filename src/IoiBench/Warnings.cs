namespace IoiBench;

/// <summary>One place where the library reports recoverable problems (the CLI prints them to stderr).</summary>
public static class Warnings
{
    /// <summary>Receives every warning; defaults to standard error.</summary>
    public static Action<string> Sink { get; set; } = message => Console.Error.WriteLine($"warning: {message}");

    public static void Emit(string message) => Sink(message);
}
