using System.Runtime.InteropServices;

namespace IoiBench.Cuda;

/// <summary>
/// A shared library from the user's CUDA installation, found on first use under one of its usual file names (loaded at
/// run time, so a machine without CUDA runs everything else), and its exports.
/// </summary>
internal sealed class NativeLibraryLoader(IReadOnlyList<string> names, string whenMissing)
{
    private readonly Lazy<(string Name, IntPtr Handle)?> _loaded = new(() =>
    {
        foreach (string candidate in names)
            if (NativeLibrary.TryLoad(candidate, typeof(NativeLibraryLoader).Assembly, null, out IntPtr handle))
                return (candidate, handle);
        return null;
    });

    /// <summary>The file name that loaded, or null when none did.</summary>
    public string? Name => _loaded.Value?.Name;

    /// <summary>
    /// The address of an exported function. A missing library is an error saying what to install; a missing export
    /// names the library and the symbol.
    /// </summary>
    public IntPtr Export(string symbol)
    {
        var (name, handle) = _loaded.Value ?? throw new InvalidInputException(whenMissing);
        return NativeLibrary.TryGetExport(handle, symbol, out IntPtr address) ? address
            : throw new InvalidInputException($"{name} has no '{symbol}': the CUDA library is too old or not the NVIDIA one.");
    }
}
