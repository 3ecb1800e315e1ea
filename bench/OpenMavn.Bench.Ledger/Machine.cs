using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Bench.Ledger;

/// <summary>What the report says about the machine and the tools.</summary>
internal static class Machine
{
    public static string Describe()
    {
        var cpu = ReadFirst("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memoryKb = ReadFirst("/proc/meminfo", "MemTotal")?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        var memory = long.TryParse(memoryKb, CultureInfo.InvariantCulture, out var kb) ? $"{kb / 1024.0 / 1024.0:F1} GiB RAM" : "RAM unknown";
        return $"{Environment.ProcessorCount} cores ({cpu}), {memory}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    public static string AnvilVersion()
    {
        var manifest = Path.Combine(ContractsFolder.Path, "node_modules", "@foundry-rs", "anvil", "package.json");
        if (!File.Exists(manifest))
        {
            return "(version unknown)";
        }

        using var json = JsonDocument.Parse(File.ReadAllText(manifest));
        return json.RootElement.GetProperty("version").GetString() ?? "(version unknown)";
    }

    private static string? ReadFirst(string file, string key)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
}
