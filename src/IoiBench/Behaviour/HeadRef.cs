namespace IoiBench.Behaviour;

/// <summary>An attention head, written "L.H" (layer 9, head 6 is "9.6").</summary>
public readonly record struct HeadRef(int Layer, int Head)
{
    public override string ToString() => $"{Layer}.{Head}";

    public static HeadRef Parse(string text)
    {
        var parts = text.Trim().Split('.');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int layer) || !int.TryParse(parts[1], out int head) || layer < 0 || head < 0)
            throw new InvalidInputException($"'{text}' is not a head; write LAYER.HEAD, e.g. 9.6.");
        return new HeadRef(layer, head);
    }
}
