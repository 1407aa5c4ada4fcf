using System.Security.Cryptography;
using System.Text;
using IoiBench.Numerics;
using IoiBench.Tokenization;

namespace IoiBench.Prompts;

/// <summary>Split sizes and the seed; the defaults are the benchmark's.</summary>
public sealed record DatasetOptions(int Train = 20_000, int Validation = 2_000, int Test = 5_000, ulong Seed = 0)
{
    public int Size(DatasetSplit split) => split switch
    {
        DatasetSplit.Train => Train,
        DatasetSplit.Validation => Validation,
        _ => Test,
    };
}

/// <summary>
/// Train, validation and test IOI examples, deterministic from the library and options. Splits hold disjoint prompt
/// texts. Train prompts draw names from the whole list; validation and test from its base half, so that the
/// counterfactual names (the other two quarters) never occur in their clean prompts. Patterns alternate ABB/BAB.
/// Counterfactuals keep template, place and object: Pos swaps the first two names; IO and S take a new name from the
/// counterfactual-IO and counterfactual-S slices respectively.
/// </summary>
public sealed class IoiDataset
{
    private const int MaxConsecutiveRejections = 10_000;

    public PromptLibrary Library { get; }
    public DatasetOptions Options { get; }
    public IReadOnlyList<IoiExample> Train { get; }
    public IReadOnlyList<IoiExample> Validation { get; }
    public IReadOnlyList<IoiExample> Test { get; }

    private IoiDataset(PromptLibrary library, DatasetOptions options, List<IoiExample> train, List<IoiExample> validation, List<IoiExample> test)
    {
        Library = library;
        Options = options;
        Train = train;
        Validation = validation;
        Test = test;
    }

    public IReadOnlyList<IoiExample> Split(DatasetSplit split) => split switch
    {
        DatasetSplit.Train => Train,
        DatasetSplit.Validation => Validation,
        _ => Test,
    };

    /// <summary>Identifies the prompts (library contents, options) in cache keys.</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Library.ContentHash}|{Options}")));

    /// <summary>
    /// What one example (a prompt and its three counterfactuals, tokenized) may take in memory: about 1 KB measured on the
    /// embedded model, doubled for the generator's working set.
    /// </summary>
    public const long BytesPerExample = 2048;

    /// <summary>
    /// The splits of <paramref name="options"/>; with <paramref name="contextLength"/>, every template must fit the
    /// model's context. A dataset that could not fit in this machine's memory is refused before any is drawn.
    /// </summary>
    public static IoiDataset Generate(PromptLibrary library, ITokenizer tokenizer, DatasetOptions options, int? contextLength = null)
    {
        long examples = (long)options.Train + options.Validation + options.Test;
        MemoryBudget.Check(examples * BytesPerExample, $"{examples:N0} prompts (train {options.Train:N0}, validation {options.Validation:N0}, " +
                                                       $"test {options.Test:N0})");
        library.CheckSingleTokens(tokenizer, contextLength);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var splits = Enum.GetValues<DatasetSplit>()
            .Select(split => GenerateSplit(library, tokenizer, options, split, used))
            .ToArray();
        return new IoiDataset(library, options, splits[0], splits[1], splits[2]);
    }

    private static List<IoiExample> GenerateSplit(PromptLibrary library, ITokenizer tokenizer, DatasetOptions options, DatasetSplit split, HashSet<string> used)
    {
        // Each split has its own random stream of the one seed.
        var rng = new DeterministicRandom(options.Seed, stream: (ulong)split);
        var (baseNames, cfIoNames, cfSNames) = library.NameSlices();
        var names = split == DatasetSplit.Train ? library.Names : baseNames;
        var examples = new List<IoiExample>(options.Size(split));
        int rejections = 0;
        while (examples.Count < options.Size(split))
        {
            int templateIndex = rng.Next(library.Templates.Count);
            int first = rng.Next(names.Count), second = rng.Next(names.Count - 1);
            if (second >= first) second++;
            var prompt = new IoiPrompt(library.Templates[templateIndex], templateIndex, IoFirst: examples.Count % 2 == 0,
                Io: names[first], S: names[second], Place: library.Places[rng.Next(library.Places.Count)], Object: library.Objects[rng.Next(library.Objects.Count)]);
            if (!used.Add(prompt.Text))
            {
                if (++rejections > MaxConsecutiveRejections)
                    throw new InvalidInputException($"cannot draw {options.Size(split)} distinct {split} prompts from {library.Directory}: the word lists are too small.");
                continue;
            }
            rejections = 0;
            var counterfactualIo = prompt with { Io = DrawOther(rng, cfIoNames, prompt) };
            var counterfactualS = prompt with { S = DrawOther(rng, cfSNames, prompt) };
            var counterfactualPos = prompt with { IoFirst = !prompt.IoFirst };
            examples.Add(new IoiExample(
                TokenizedPrompt.Create(prompt, tokenizer), TokenizedPrompt.Create(counterfactualIo, tokenizer),
                TokenizedPrompt.Create(counterfactualS, tokenizer), TokenizedPrompt.Create(counterfactualPos, tokenizer)));
        }
        return examples;
    }

    private static string DrawOther(DeterministicRandom rng, IReadOnlyList<string> slice, IoiPrompt prompt)
    {
        // Slices hold at least three names (PromptLibrary.MinimumNames), so one differs from both IO and S.
        var candidates = slice.Where(name => name != prompt.Io && name != prompt.S).ToList();
        return candidates[rng.Next(candidates.Count)];
    }
}
