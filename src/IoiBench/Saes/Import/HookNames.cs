using System.Globalization;
using System.Text.RegularExpressions;
using IoiBench.Model;

namespace IoiBench.Saes;

/// <summary>
/// Where an SAE was trained, from the names other tools give hooks: TransformerLens's (SAELens's <c>hook_name</c>,
/// with <c>hook_head_index</c> for one head) and Hugging Face module paths (sparsify's hookpoints, its folder names).
/// </summary>
public static partial class HookNames
{
    [GeneratedRegex(@"^blocks\.(\d+)\.(hook_resid_pre|hook_resid_mid|hook_resid_post|hook_attn_out|hook_mlp_out" +
                    @"|attn\.hook_q|attn\.hook_k|attn\.hook_v|attn\.hook_z)$")]
    private static partial Regex TransformerLens();

    [GeneratedRegex(@"^(?:transformer\.|model\.)?(?:h|layers)\.(\d+)(\.attn|\.mlp)?$")]
    private static partial Regex HuggingFace();

    /// <summary>
    /// The hook of a TransformerLens hook name, e.g. blocks.6.hook_resid_pre; q/k/v/z of one head with
    /// <paramref name="head"/>, else of every head concatenated (SAELens's hook_z SAEs). Null when the name is none
    /// IoiBench places.
    /// </summary>
    public static HeadHook? FromTransformerLens(string name, int? head)
    {
        var match = TransformerLens().Match(name);
        if (!match.Success) return null;
        int layer = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        string hook = match.Groups[2].Value;
        var point = HookPoints.FromSiteName(hook[(hook.LastIndexOf("hook_", StringComparison.Ordinal) + 5)..])!.Value;
        if (point.IsStream()) return head is null ? new HeadHook(point, layer, HeadHook.AllHeads) : null;
        return new HeadHook(point, layer, head ?? HeadHook.AllHeads);
    }

    /// <summary>
    /// The hook of a Hugging Face GPT-2 module path as sparsify names its hookpoints: h.L (the block's output, the
    /// residual stream after it), h.L.attn (the attention's output), h.L.mlp (the MLP's); null otherwise.
    /// </summary>
    public static HeadHook? FromModulePath(string path)
    {
        var match = HuggingFace().Match(path);
        if (!match.Success) return null;
        int layer = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var point = match.Groups[2].Value switch
        {
            ".attn" => HookPoint.AttnOut,
            ".mlp" => HookPoint.MlpOut,
            _ => HookPoint.ResidPost,
        };
        return new HeadHook(point, layer, HeadHook.AllHeads);
    }
}
