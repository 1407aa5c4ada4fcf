using System.CommandLine;
using IoiBench.Cli.Commands;

namespace IoiBench.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Every command of <c>ioibench</c>, writing to the given streams. The root is named "ioibench", whatever the
    /// executable is called (IoiBench.Cli when built, ioibench as the checkout's script), so help reads the same everywhere.
    /// </summary>
    public static Command CreateRoot(TextWriter stdout, TextWriter stderr) =>
        new("ioibench", "IoiBench: scores sparse autoencoders against supervised features on the IOI task.")
        {
            new System.CommandLine.Help.HelpOption { Action = new System.CommandLine.Help.HelpAction { MaxWidth = 120 } },
            new VersionOption(),
            TokenizeCommand.Create(stdout),
            LogitsCommand.Create(stdout),
            ActivationsCommand.Create(stdout),
            PromptsCommand.Create(stdout),
            IoiEvalCommand.Create(stdout, stderr),
            ExtractCommand.Create(stdout, stderr),
            CircuitCommand.Create(stdout, stderr),
            DictionariesCommand.Create(stdout, stderr),
            TrainCommand.Create(stdout, stderr),
            SynthCommand.Create(stdout, stderr),
            BenchTrainCommand.Create(stdout, stderr),
            BenchForwardCommand.Create(stdout, stderr),
            RunCommand.Create(stdout, stderr),
            LeaderboardCommand.Create(stdout),
            ReportCommand.Create(stdout),
            DeviceCommand.Create(stdout),
        };

    /// <summary>Runs the command line; bad arguments and bad input files print one line and return 2.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        Warnings.Sink = message => stderr.WriteLine($"ioibench: warning: {message}");
        var parsed = CreateRoot(stdout, stderr).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            string message = System.Text.RegularExpressions.Regex.Replace(parsed.Errors[0].Message, @"\s+", " ");
            stderr.WriteLine($"ioibench: {message} (see ioibench --help)");
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (InvalidInputException e)
        {
            stderr.WriteLine($"ioibench: error: {e.Message}");
            return 2;
        }
    }
}
