using System.CommandLine;
using System.Diagnostics;
using IoiBench.Behaviour;
using IoiBench.Gpu;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Runs;
using IoiBench.Saes;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench bench-forward</c>: times the forward pass that the logit-difference-recovered evaluation repeats (a batch
/// of prompts with one head's z patched at the last position, last-position logits back on the host), on the CPU or a
/// GPU, and projects the makelov2024 evaluation from it. Runs on random weights of GPT-2 small's shape unless given a
/// model; tools/bench_torch_forward.py does the same work in PyTorch.
/// </summary>
internal static class BenchForwardCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string?>("--model") { Description = "Model directory (default: random weights of GPT-2 small's shape)" };
        var batch = new Option<int>("--batch") { Description = "Prompts per forward pass (the benchmark's batch: 64)", DefaultValueFactory = _ => PromptRunner.DefaultBatchSize };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per prompt (IOI prompts in GPT-2's tokens: 16–20)", DefaultValueFactory = _ => 19 };
        var batches = new Option<int>("--batches") { Description = "Timed forward passes, after one untimed warm-up pass", DefaultValueFactory = _ => 20 };
        var device = CommonOptions.Device("the forward passes run");
        var format = CommonOptions.Format();
        var command = new Command("bench-forward", "Time the patched forward pass of the LD-recovered evaluation, on the CPU or a GPU")
            { model, batch, seqLen, batches, device, format };
        command.SetAction(parse =>
        {
            int b = parse.GetValue(batch), t = parse.GetValue(seqLen), timedBatches = parse.GetValue(batches);
            if (b < 1 || t < 1 || timedBatches < 1) throw new InvalidInputException("--batch, --seq-len and --batches must be positive.");
            string? directory = parse.GetValue(model);
            var weights = directory is null ? RandomGpt2.Create(RandomGpt2.SmallShape, seed: 1) : ModelDirectory.Load(directory, processed: true).Model.Weights;
            var cfg = weights.Config;
            if (t > cfg.NPositions) throw new InvalidInputException($"--seq-len {t} exceeds the model's {cfg.NPositions} positions.");

            using var gpu = parse.GetValue(device) == TrainingDevice.Cuda ? new CudaGpt2Model(weights) : null;
            ITransformer transformer = (ITransformer?)gpu ?? new Gpt2Model(weights);
            var random = new DeterministicRandom(2);
            var tokens = new TokenBatch([.. Enumerable.Range(0, b * t).Select(_ => random.Next(cfg.VocabSize))], b, t);
            int[] last = [.. Enumerable.Repeat(t - 1, b)];
            var patch = Enumerable.Range(0, b * cfg.DHead).Select(_ => (float)random.NextGaussian()).ToArray();
            var hooks = new HookSet();
            hooks.Patch(new HeadHook(HookPoint.Z, cfg.NLayer - 1, 0), last, patch);

            transformer.Forward(tokens, last, hooks);   // warm-up: kernels compiled, buffers sized, caches filled
            var times = new double[timedBatches];
            for (int i = 0; i < timedBatches; i++)
            {
                var clock = Stopwatch.StartNew();
                transformer.Forward(tokens, last, hooks);   // returns once the logits are on the host
                times[i] = clock.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            double msPerBatch = times[timedBatches / 2], promptsPerSecond = b / (msPerBatch / 1000);
            double gflops = cfg.ForwardFlops(b, t, logitRows: b) / (msPerBatch / 1000) / 1e9;

            // makelov2024's selection (on GPT-2 small): every SAE of every node at each of its checkpoints and its end,
            // LdPrompts prompts each.
            bool gpt2Small = cfg == RandomGpt2.SmallShape;
            var preset = Defaults.LoadPreset("makelov2024");
            int nodes = IoiBench.Sites.SitesFile.Load(Path.Combine(AppContext.BaseDirectory, "models", "gpt2-small", "sites.yaml")).Nodes.Count;
            int candidates = nodes * preset.Saes.Count * (preset.Options.Checkpoints.Count(e => e < preset.Options.Epochs) + 1);
            long prompts = (long)candidates * new EditOptions().LdPrompts;
            double projectedSeconds = prompts / promptsPerSecond;

            string deviceName = gpu?.DeviceName ?? $"cpu ({Environment.ProcessorCount} cores, GEMM: {Gemm.Backend})";
            string modelName = directory is null ? "random GPT-2 small shape" : CommonOptions.ModelName(directory);
            if (parse.GetValue(format) == OutputFormat.Json)
                stdout.WriteLine(CommonOptions.JsonLine(j =>
                {
                    j.WriteString("model", modelName);
                    j.WriteString("device", deviceName);
                    j.WriteNumber("batch", b);
                    j.WriteNumber("seq_len", t);
                    j.WriteNumber("batches", timedBatches);
                    j.WriteNumber("median_ms", msPerBatch);
                    j.WriteNumber("min_ms", times[0]);
                    j.WriteNumber("max_ms", times[^1]);
                    j.WriteNumber("gflops", gflops);
                    j.WriteNumber("prompts_per_second", promptsPerSecond);
                    if (gpt2Small) j.WriteNumber("makelov2024_ld_projected_seconds", projectedSeconds);
                }));
            else
            {
                stdout.WriteLine($"{modelName} ({cfg.NLayer} layers × {cfg.NHead} heads, d_model {cfg.DModel}, vocabulary {cfg.VocabSize}) on {deviceName}");
                stdout.WriteLine($"  {timedBatches} forward passes of {b} prompts × {t} tokens, z@{cfg.NLayer - 1}.0 patched, last-position logits: " +
                                 $"median {msPerBatch:F1} ms (min {times[0]:F1}, max {times[^1]:F1}), {gflops:F0} GFLOP/s, {promptsPerSecond:F0} prompts/s");
                if (gpt2Small)
                    stdout.WriteLine($"  projected for makelov2024's LD-recovered evaluation ({candidates:N0} candidate SAEs × {new EditOptions().LdPrompts} prompts, " +
                                     $"full batches): {projectedSeconds / 60:F1} min");
            }
            return 0;
        });
        return command;
    }
}
