using System.CommandLine;
using IoiBench.DeviceCheck;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench device</c>: whether IoiBench can use this machine's NVIDIA GPU — driver and devices, NVRTC, cuBLAS, a
/// kernel launch, a cuBLAS product, and SAE training (each variant and a small sweep) checked against the CPU. Exit code
/// 0 when everything works, 2 (IoiBench's error code) otherwise.
/// </summary>
internal static class DeviceCommand
{
    public static Command Create(TextWriter stdout)
    {
        var format = CommonOptions.Format();
        var command = new Command("device", "Check the NVIDIA GPU: driver, devices, NVRTC, cuBLAS, a kernel, a product and SAE training against the CPU") { format };
        command.SetAction(parse =>
        {
            var checks = CudaSelfTest.Run();
            foreach (var check in checks)
            {
                if (format.Get(parse) == OutputFormat.Json)
                    stdout.WriteLine(CommonOptions.JsonLine(json =>
                    {
                        json.WriteString("component", check.Component);
                        json.WriteBoolean("ok", check.Ok);
                        json.WriteString("detail", check.Detail);
                    }));
                else stdout.WriteLine($"{check.Component,-15} {(check.Ok ? "ok" : "no"),-3} {check.Detail}");
            }
            return CudaSelfTest.Usable(checks) ? 0 : 2;
        });
        return command;
    }
}
