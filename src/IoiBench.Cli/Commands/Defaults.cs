namespace IoiBench.Cli.Commands;

/// <summary>Paths of the data that ships beside the binary.</summary>
internal static class Defaults
{
    public static string PromptsDirectory => Path.Combine(AppContext.BaseDirectory, "prompts");

    public static string PresetsDirectory => Path.Combine(AppContext.BaseDirectory, "presets");

    /// <summary>A preset given as a bundled name (presets/NAME.yaml) or a YAML file.</summary>
    public static IoiBench.Saes.TrainingPreset LoadPreset(string nameOrPath) => IoiBench.Saes.TrainingPreset.Load(PresetPath(nameOrPath));

    /// <summary>The file of a preset given as a bundled name or a path.</summary>
    public static string PresetPath(string nameOrPath)
    {
        string path = File.Exists(nameOrPath) ? nameOrPath : Path.Combine(PresetsDirectory, nameOrPath + ".yaml");
        if (!File.Exists(path))
        {
            string bundled = string.Join(", ", Directory.EnumerateFiles(PresetsDirectory, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order());
            throw new InvalidInputException($"--preset {nameOrPath}: no such file and no bundled preset of that name (bundled: {bundled}).");
        }
        return path;
    }

    /// <summary>
    /// <paramref name="path"/>, unless it lies inside IoiBench's own files (the build or install folder, which holds the
    /// bundled models, presets and prompts): writing there would change what later runs read, and a rebuild would not
    /// restore it.
    /// </summary>
    public static string Writable(string path, string option)
    {
        string full = Path.GetFullPath(path), installed = Path.GetFullPath(AppContext.BaseDirectory);
        if (full.StartsWith(installed, StringComparison.Ordinal))
            throw new InvalidInputException($"{option} {path}: that is inside IoiBench's own files ({installed}); write somewhere else.");
        return path;
    }

    /// <summary>The embedded default model (models/ioi-tiny in the repository).</summary>
    public static string EmbeddedModel => Path.Combine(AppContext.BaseDirectory, "models", "ioi-tiny");
}
