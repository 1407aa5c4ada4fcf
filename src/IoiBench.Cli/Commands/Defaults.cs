namespace IoiBench.Cli.Commands;

/// <summary>Paths of the data that ships beside the binary.</summary>
internal static class Defaults
{
    public static string PromptsDirectory => Path.Combine(AppContext.BaseDirectory, "prompts");

    public static string PresetsDirectory => Path.Combine(AppContext.BaseDirectory, "presets");

    /// <summary>The embedded default model (models/ioi-tiny in the repository).</summary>
    public static string EmbeddedModel => Path.Combine(AppContext.BaseDirectory, "models", "ioi-tiny");
}
