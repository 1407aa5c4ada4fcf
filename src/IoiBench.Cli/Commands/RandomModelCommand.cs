using System.CommandLine;
using IoiBench.Model;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench random-model</c>: writes a model directory of GPT-2 small's shape with random weights and GPT-2's
/// vocabulary, and the sites file of GPT-2 small (the reference's 55 per-head nodes and four whole-layer ones): the
/// whole benchmark runs on it as on the real model, for timings and memory at GPT-2's size (its IOI behaviour is that
/// of random weights).
/// </summary>
internal static class RandomModelCommand
{
    public static Command Create(TextWriter stdout)
    {
        var output = new Option<string>("--output") { Description = "Directory to write (config.json, model.safetensors, vocab.json, merges.txt, sites.yaml)", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights", DefaultValueFactory = _ => 1 };
        var command = new Command("random-model", "Write a GPT-2-small-shaped model with random weights and GPT-2's vocabulary") { output, seed };
        command.SetAction(parse =>
        {
            string directory = Defaults.Writable(parse.GetValue(output)!, "--output");
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
                throw new InvalidInputException($"--output {directory}: the directory is not empty.");
            RandomGpt2.WriteDirectory(directory, RandomGpt2.SmallShape, parse.GetValue(seed));
            string sites = Path.Combine(AppContext.BaseDirectory, "models", "gpt2-small", "sites.yaml");
            File.Copy(sites, Path.Combine(directory, "sites.yaml"));
            int nodes = IoiBench.Sites.SitesFile.Load(sites).Nodes.Count;
            stdout.WriteLine($"wrote a random GPT-2 small (seed {parse.GetValue(seed)}) with GPT-2's vocabulary and its {nodes}-node sites.yaml " +
                             $"to {directory}");
            return 0;
        });
        return command;
    }
}
