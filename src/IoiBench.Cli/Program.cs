using System.CommandLine;
using IoiBench.Reports;
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
            ScoreCommand.Create(stdout, stderr),
            LeaderboardCommand.Create(stdout),
            ReportCommand.Create(stdout),
            DeviceCommand.Create(stdout),
            RandomModelCommand.Create(stdout),
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
        catch (Exception e)
        {
            stderr.WriteLine(ErrorLine(e is AggregateException aggregate ? IoiBench.Numerics.ParallelJobs.Unwrap(aggregate) : e));
            if (Environment.GetEnvironmentVariable("IOIBENCH_DEBUG") == "1") stderr.WriteLine(e);
            return 2;
        }
    }

    /// <summary>
    /// The one line an error prints: bad input and I/O failures (whose messages name the file) as they are, anything
    /// else as an internal error. Results already written stay valid: every file is written atomically.
    /// </summary>
    internal static string ErrorLine(Exception e) => e switch
    {
        InvalidInputException => $"ioibench: error: {e.Message}",
        IOException or UnauthorizedAccessException => $"ioibench: error: {e.Message}",
        OutOfMemoryException => "ioibench: error: out of memory; use smaller splits (--train, --validation, --test) or a machine with more memory.",
        _ => $"ioibench: internal error: {e.GetType().Name}: {e.Message} (IOIBENCH_DEBUG=1 prints the stack trace)",
    };
}
