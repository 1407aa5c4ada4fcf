using System.Runtime.InteropServices;

namespace IoiBench.Gpu;

/// <summary>
/// Finds one of several file names of a shared library from the user's CUDA installation (loaded at run time, so a
/// machine without CUDA runs everything else) and resolves its exports.
/// </summary>
internal sealed class NativeLibraryLoader(string name, IntPtr handle)
{
    /// <summary>The file name that loaded.</summary>
    public string Name { get; } = name;

    public static NativeLibraryLoader? TryLoad(IEnumerable<string> names)
    {
        foreach (string candidate in names)
            if (NativeLibrary.TryLoad(candidate, typeof(NativeLibraryLoader).Assembly, null, out IntPtr handle))
                return new NativeLibraryLoader(candidate, handle);
        return null;
    }

    /// <summary>The address of an exported function; a missing export names the library and the symbol.</summary>
    public IntPtr Export(string symbol) =>
        NativeLibrary.TryGetExport(handle, symbol, out IntPtr address) ? address
            : throw new InvalidInputException($"{Name} has no '{symbol}': the CUDA library is too old or not the NVIDIA one.");
}
