namespace IoiBench.Model;

/// <summary>A batch of equal-length token sequences, row-major [Batch, SeqLen].</summary>
public sealed class TokenBatch
{
    public int[] Ids { get; }
    public int Batch { get; }
    public int SeqLen { get; }

    public TokenBatch(int[] ids, int batch, int seqLen)
    {
        if (batch <= 0 || seqLen <= 0 || ids.Length != batch * seqLen)
            throw new ArgumentException($"{ids.Length} ids cannot form a batch of {batch} × {seqLen}.");
        Ids = ids;
        Batch = batch;
        SeqLen = seqLen;
    }

    public static TokenBatch FromSequences(IReadOnlyList<int[]> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("A batch needs at least one sequence.");
        int seqLen = sequences[0].Length;
        for (int i = 0; i < sequences.Count; i++)
            if (sequences[i].Length != seqLen)
                throw new ArgumentException($"Sequence {i} has {sequences[i].Length} tokens but sequence 0 has {seqLen}; a batch needs equal lengths.");
        return new TokenBatch(sequences.SelectMany(s => s).ToArray(), sequences.Count, seqLen);
    }

    public ReadOnlySpan<int> Sequence(int index) => Ids.AsSpan(index * SeqLen, SeqLen);
}
