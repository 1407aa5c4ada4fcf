using System.Security.Cryptography;
using System.Text;
using IoiBench.Activations;
using IoiBench.Edits;
using IoiBench.Edits.Das;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>One edit of a cross-section: the edited activations of each node and the weight removed per prompt.</summary>
public sealed record CrossSectionEdit(IReadOnlyDictionary<SiteNode, Tensor> Edited, double[] WeightRemoved);

/// <summary>
/// What DAS's training at a cross-section cost and reached: subspace dimension, prompts trained and validated on,
/// epochs, optimiser steps, forward-and-backward prompt passes, the validation cross-entropy before and after, seconds.
/// </summary>
public sealed record DasTrainingRecord(string CrossSection, int Dimensions, int TrainPrompts, int ValidationPrompts, int Epochs,
    int Steps, long PromptPasses, double InitialValidationLoss, double ValidationLoss, double Seconds);

/// <summary>
/// The subspace baselines of a cross-section (docs/edits.md, "Baselines"): at every node an interchange
/// x' = x + P(x_cf − x) in an n-dimensional subspace (<see cref="SubspaceEdit"/>) chosen without the test prompts —
/// DiffMean (u[v_cf] − u[v] of the supervised dictionary, one direction per prompt), PCA of the clean train
/// activations, PCA of the train counterfactual differences x_cf − x, the directions of a logistic-regression probe
/// for the attribute, random subspaces (several seeded draws, averaged), and DAS's subspaces, learned on train prompts
/// through the model (<see cref="DasTrainer"/>). Weight removed is the subspace's share of the centred clean
/// activation, averaged over the nodes.
/// </summary>
public sealed class BaselineEdits(Gpt2Weights weights, SaeSelector selector, IoiDataset dataset, SiteActivations train,
    SiteActivations test, EditOptions options)
{
    /// <summary>The baselines' method names, in the order <see cref="Run"/> yields them.</summary>
    public static readonly IReadOnlyList<string> Methods = ["diffmean", "pca", "pca-diff", "probe", "random", "das"];

    private readonly List<DasTrainingRecord> _dasTraining = [];

    /// <summary>What each cross-section's DAS training cost, in the order the cross-sections ran.</summary>
    public IReadOnlyList<DasTrainingRecord> DasTraining => _dasTraining;

    /// <summary>Each baseline's name (<see cref="Methods"/>) and its edits (one, or one per random draw).</summary>
    /// <param name="dasProgress">DAS's training, the one baseline that takes long.</param>
    public IEnumerable<(string Method, IReadOnlyList<CrossSectionEdit> Draws)> Run(CrossSection section,
        Func<IProgress<ProgressUpdate>?>? dasProgress = null)
    {
        var attribute = section.Attribute;
        var cfVariant = PromptVariants.Of(attribute);
        int n = options.BaselineDimensions;
        int fitted = Math.Min(options.BaselineTrain, train.Prompts);
        Tensor Train(SiteNode node, PromptVariant variant) => train.Get(node, variant).Slice(0, fitted);
        var values = dataset.Train.Take(fitted).Select(e => e.Clean.Prompt.ValueOf(attribute)).ToList();
        var classOf = values.Distinct().Order(StringComparer.Ordinal).Select((v, i) => (v, i))
            .ToDictionary(x => x.v, x => x.i);
        int[] labels = [.. values.Select(v => classOf[v])];

        Tensor Pca(SiteNode node) => BaselineDirections.Principal(Train(node, PromptVariant.Clean), n, centre: true);
        Tensor PcaOfDifferences(SiteNode node) =>
            BaselineDirections.Principal(Difference(Train(node, cfVariant), Train(node, PromptVariant.Clean)), n,
                centre: false);
        Tensor Probe(SiteNode node) => BaselineDirections.Probe(Train(node, PromptVariant.Clean), labels, classOf.Count, n);
        Func<SiteNode, Tensor> Random(int draw) => node =>
            BaselineDirections.Random(test.Get(node, PromptVariant.Clean).Shape[1], n,
                new DeterministicRandom(options.Seed, RandomStream(node, draw)));

        yield return (Methods[0], [DiffMean(section)]);
        yield return (Methods[1], [Fixed(section, Pca)]);
        yield return (Methods[2], [Fixed(section, PcaOfDifferences)]);
        yield return (Methods[3], [Fixed(section, Probe)]);
        yield return (Methods[4], [.. Enumerable.Range(0, options.RandomDraws).Select(draw => Fixed(section, Random(draw)))]);
        var das = TrainDas(section, dasProgress?.Invoke());
        yield return (Methods[5], [Fixed(section, node => das[node])]);
    }

    /// <summary>
    /// DAS at the cross-section's nodes together, from random orthonormal bases: trained on the first
    /// <see cref="EditOptions.DasTrain"/> train prompts, stopped early on the last <see cref="EditOptions.DasValidation"/>.
    /// </summary>
    private Dictionary<SiteNode, Tensor> TrainDas(CrossSection section, IProgress<ProgressUpdate>? progress)
    {
        int validation = Math.Min(options.DasValidation, train.Prompts / 5);
        int fitted = Math.Min(options.DasTrain, train.Prompts - validation);
        int[] indices = [.. Enumerable.Range(0, fitted), .. Enumerable.Range(train.Prompts - validation, validation)];
        Tensor Rows(SiteNode node, PromptVariant variant) => train.Get(node, variant).Rows(indices);
        var cfVariant = PromptVariants.Of(section.Attribute);
        var nodes = section.Nodes;
        var problem = Gpt2Interchange.Build(weights, [.. indices.Select(i => dataset.Train[i].Clean)], nodes,
            [.. nodes.Select(n => Rows(n, PromptVariant.Clean))], [.. nodes.Select(n => Rows(n, cfVariant))], fitted, options.DasBatch);
        var initial = nodes.Select(n => BaselineDirections.Random(train.Get(n, PromptVariant.Clean).Shape[1], options.BaselineDimensions,
            new DeterministicRandom(options.Seed, RandomStream($"{n}#das")))).ToList();
        var result = DasTrainer.Train(problem, initial, options.Das, progress);
        _dasTraining.Add(new DasTrainingRecord(section.Name, options.BaselineDimensions, problem.TrainPrompts, problem.ValidationPrompts,
            result.Epochs, result.Steps, result.PromptPasses, result.InitialValidationLoss, result.ValidationLoss, result.Elapsed.TotalSeconds));
        return nodes.Select((n, i) => (n, result.Subspaces[i])).ToDictionary(x => x.n, x => x.Item2);
    }

    /// <summary>One subspace per node, the same for every prompt.</summary>
    private CrossSectionEdit Fixed(CrossSection section, Func<SiteNode, Tensor> directionsOf)
    {
        var cfVariant = PromptVariants.Of(section.Attribute);
        var edited = new Dictionary<SiteNode, Tensor>();
        var weight = new double[test.Prompts];
        foreach (var node in section.Nodes)
        {
            var directions = directionsOf(node);
            var (clean, counterfactual) = (test.Get(node, PromptVariant.Clean), test.Get(node, cfVariant));
            var mean = selector.Dictionary(node).Mean;
            var result = new Tensor(test.Prompts, clean.Shape[1]);
            for (int p = 0; p < test.Prompts; p++)
            {
                SubspaceEdit.Interchange(clean.Row(p), counterfactual.Row(p), directions, result.Row(p));
                weight[p] += SubspaceEdit.WeightRemoved(clean.Row(p), mean, directions) / section.Nodes.Count;
            }
            edited[node] = result;
        }
        return new CrossSectionEdit(edited, weight);
    }

    /// <summary>DiffMean: per prompt, the direction between its own value's code and its counterfactual value's.</summary>
    private CrossSectionEdit DiffMean(CrossSection section)
    {
        var attribute = section.Attribute;
        var cfVariant = PromptVariants.Of(attribute);
        var edited = new Dictionary<SiteNode, Tensor>();
        var weight = new double[test.Prompts];
        foreach (var node in section.Nodes)
        {
            var dictionary = selector.Dictionary(node);
            var (clean, counterfactual) = (test.Get(node, PromptVariant.Clean), test.Get(node, cfVariant));
            var result = new Tensor(test.Prompts, clean.Shape[1]);
            for (int p = 0; p < test.Prompts; p++)
            {
                var example = dataset.Test[p];
                var direction = BaselineDirections.DiffMean(dictionary, attribute, example.Clean.Prompt.ValueOf(attribute),
                    example.Counterfactual(attribute).Prompt.ValueOf(attribute));
                SubspaceEdit.Interchange(clean.Row(p), counterfactual.Row(p), direction, result.Row(p));
                weight[p] += SubspaceEdit.WeightRemoved(clean.Row(p), dictionary.Mean, direction) / section.Nodes.Count;
            }
            edited[node] = result;
        }
        return new CrossSectionEdit(edited, weight);
    }

    private static Tensor Difference(Tensor a, Tensor b)
    {
        var difference = a.Clone();
        System.Numerics.Tensors.TensorPrimitives.Subtract(difference.Span, b.Span, difference.Span);
        return difference;
    }

    /// <summary>A random stream per node and draw, from the node's name: a node's subspaces are the same in every cross-section.</summary>
    private static ulong RandomStream(SiteNode node, int draw) => RandomStream($"{node}#{draw}");

    private static ulong RandomStream(string key) => BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0);
}
