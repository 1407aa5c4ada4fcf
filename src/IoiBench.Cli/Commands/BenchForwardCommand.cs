using System.CommandLine;
using System.Diagnostics;
using IoiBench.Behaviour;
using IoiBench.Cuda;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Runs;
using IoiBench.Saes;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench bench-forward</c>: times the forward pass that the logit-difference-recovered evaluation repeats (a batch
/// of prompts with one head's z patched at the last position, last-position logits back on the host), on the CPU or a
/// GPU, in full and started at the last layer from the clean residual stream (as the evaluation runs a last-layer node),
/// and projects the makelov2024 evaluation from the two. Runs on random weights of GPT-2 small's shape unless given a
/// model; tools/bench_torch_forward.py does the full pass in PyTorch.
/// </summary>
internal static class BenchForwardCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string?>("--model") { Description = "Model directory (default: random weights of GPT-2 small's shape)" };
        var batch = CommonOptions.Number("--batch", "Prompts per forward pass (the benchmark's batch: 64)", fallback: PromptRunner.DefaultBatchSize, minimum: 1);
        var seqLen = CommonOptions.Number("--seq-len", "Tokens per prompt (IOI prompts in GPT-2's tokens: 16–20)", fallback: 19, minimum: 1);
        var batches = CommonOptions.Number("--batches", "Timed forward passes, after one untimed warm-up pass", fallback: 20, minimum: 1);
        var basis = CommonOptions.Basis(ModelBasis.Processed);
        var device = CommonOptions.Device("the forward passes run");
        var format = CommonOptions.Format();
        var command = new Command("bench-forward", "Time the patched forward pass of the LD-recovered evaluation, on the CPU or a GPU")
            { model, batch, seqLen, batches, basis, device, format };
        command.SetAction(parse =>
        {
            int b = parse.GetValue(batch), t = parse.GetValue(seqLen), timedBatches = parse.GetValue(batches);
            string? directory = parse.GetValue(model);
            var weights = directory is null ? RandomGpt2.Create(RandomGpt2.SmallShape, seed: 1) : ModelDirectory.Load(directory, basis.Get(parse)).Model.Weights;
            var cfg = weights.Config;
            if (t > cfg.NPositions) throw new InvalidInputException($"--seq-len {t} exceeds the model's {cfg.NPositions} positions.");

            using var transformer = Transformers.On(device.Get(parse), weights);
            var random = new DeterministicRandom(2);
            var tokens = new TokenBatch([.. Enumerable.Range(0, b * t).Select(_ => random.Next(cfg.VocabSize))], b, t);
            int[] last = [.. Enumerable.Repeat(t - 1, b)];
            var patch = Enumerable.Range(0, b * cfg.DHead).Select(_ => (float)random.NextGaussian()).ToArray();
            int lastLayer = cfg.NLayer - 1;
            HookSet Patched()
            {
                var hooks = new HookSet();
                hooks.Patch(new HeadHook(HookPoint.Z, lastLayer, 0), last, patch);
                return hooks;
            }
            var warmUp = Patched();
            var entering = warmUp.CaptureResidual(lastLayer);
            transformer.Forward(tokens, last, warmUp);   // kernels compiled, buffers sized, caches filled
            var patched = Patched();
            // The same pass as the evaluation runs it for a last-layer node: started there from the clean run's stream.
            var started = Patched();
            started.StartAt(lastLayer, entering.Values);

            var full = Time(transformer, tokens, last, patched, timedBatches);
            var fromLast = Time(transformer, tokens, last, started, timedBatches);
            double msPerBatch = full.Median, promptsPerSecond = b / (msPerBatch / 1000);
            double gflops = cfg.ForwardFlops(b, t, logitRows: b) / (msPerBatch / 1000) / 1e9;
            // Layers cost the same, so a pass started at layer L takes the last-layer pass's time plus (last − L) layers.
            double msPerLayer = cfg.NLayer > 1 ? Math.Max(0, full.Median - fromLast.Median) / lastLayer : 0;
            double MsFrom(int layer) => fromLast.Median + (lastLayer - layer) * msPerLayer;

            // makelov2024's selection (on GPT-2 small): every SAE of every node at each of its checkpoints and its end,
            // LdPrompts prompts each, each node's runs started at its layer; the reference's 55 nodes are the per-head ones.
            bool gpt2Small = cfg == RandomGpt2.SmallShape;
            var preset = Defaults.LoadPreset("makelov2024");
            var nodes = IoiBench.Sites.SitesFile.Load(Path.Combine(AppContext.BaseDirectory, "models", "gpt2-small", "sites.yaml")).Nodes
                .Where(n => !n.HeadHook.WholeLayer).ToList();
            int perNode = preset.Saes.Count * (preset.Options.Checkpoints.Count(e => e < preset.Options.Epochs) + 1);
            int ldPrompts = new EditOptions().LdPrompts!.Value;
            double passesPerCandidate = ldPrompts / (double)b;
            double projectedSeconds = nodes.Sum(n => perNode * passesPerCandidate * MsFrom(n.Layer)) / 1000;
            double fullPassSeconds = nodes.Count * perNode * passesPerCandidate * full.Median / 1000;

            string deviceName = (transformer as CudaGpt2Model)?.DeviceName ?? $"cpu ({Environment.ProcessorCount} cores, GEMM: {Gemm.Backend})";
            string modelName = directory is null ? "random GPT-2 small shape" : CommonOptions.ModelName(directory);
            if (format.Get(parse) == OutputFormat.Json)
                stdout.WriteLine(CommonOptions.JsonLine(j =>
                {
                    j.WriteString("model", modelName);
                    j.WriteString("device", deviceName);
                    j.Number("batch", b);
                    j.Number("seq_len", t);
                    j.Number("batches", timedBatches);
                    j.Number("median_ms", msPerBatch);
                    j.Number("min_ms", full.Min);
                    j.Number("max_ms", full.Max);
                    j.Number("gflops", gflops);
                    j.Number("prompts_per_second", promptsPerSecond);
                    j.Number("last_layer_start_median_ms", fromLast.Median);
                    j.Number("ms_per_layer", msPerLayer);
                    if (gpt2Small)
                    {
                        j.Number("makelov2024_ld_projected_seconds", projectedSeconds);
                        j.Number("makelov2024_ld_full_passes_projected_seconds", fullPassSeconds);
                    }
                }));
            else
            {
                stdout.WriteLine($"{modelName} ({cfg.NLayer} layers × {cfg.NHead} heads, d_model {cfg.DModel}, vocabulary {cfg.VocabSize}) on {deviceName}");
                stdout.WriteLine($"  {timedBatches} forward passes of {b} prompts × {t} tokens, z@{lastLayer}.0 patched, last-position logits: " +
                                 $"median {msPerBatch:F1} ms (min {full.Min:F1}, max {full.Max:F1}), {gflops:F0} GFLOP/s, {promptsPerSecond:F0} prompts/s");
                stdout.WriteLine($"  the same passes started at layer {lastLayer} from the clean residual stream: median {fromLast.Median:F1} ms " +
                                 $"(min {fromLast.Min:F1}, max {fromLast.Max:F1}); {msPerLayer:F1} ms per layer");
                if (gpt2Small)
                    stdout.WriteLine($"  projected for makelov2024's LD-recovered evaluation ({nodes.Count * perNode:N0} candidate SAEs × {ldPrompts} prompts, " +
                                     $"full batches, each node's runs started at its layer): {projectedSeconds / 60:F1} min ({fullPassSeconds / 60:F1} min with full passes)");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Median, fastest and slowest of <paramref name="passes"/> timed passes (each returns once the logits are on the host).</summary>
    private static (double Median, double Min, double Max) Time(ITransformer transformer, TokenBatch tokens, int[] last, HookSet hooks, int passes)
    {
        var times = new double[passes];
        for (int i = 0; i < passes; i++)
        {
            var clock = Stopwatch.StartNew();
            transformer.Forward(tokens, last, hooks);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return (times[passes / 2], times[0], times[^1]);
    }
}
