using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace OpenMavn.Bench.Load;

/// <summary>What the machine is: cores, CPU model, RAM, OS, .NET.</summary>
internal static class Machine
{
    public static string Describe()
    {
        var cpu = Read("/proc/cpuinfo")?.Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = Read("/proc/meminfo")?.Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var ram = long.TryParse(memKb, out var kb) ? $"{kb / 1024.0 / 1024.0:F1} GiB RAM" : "RAM unknown";
        var os = Read("/etc/os-release")?.Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? RuntimeInformation.OSDescription;
        return $"{Environment.ProcessorCount} cores ({cpu}), {ram}, {os} ({RuntimeInformation.OSDescription}), {RuntimeInformation.FrameworkDescription}";
    }

    /// <summary>The 1-, 5- and 15-minute load averages (other work on the machine shows here).</summary>
    public static string LoadAverage() => string.Join(' ', (Read("/proc/loadavg") ?? "? ? ?").Split(' ').Take(3));

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>The Markdown report: per-operation figures, then each target with its measured ratio.</summary>
internal sealed class Report(LoadOptions options, string machine)
{
    private readonly List<OperationResult> _results = [];

    public string LoadBefore { get; set; } = "";

    public string LoadAfter { get; set; } = "";

    public string? PurchaseCheck { get; set; }

    public List<TimeSpan> HostColdStarts { get; } = [];

    public List<TimeSpan> FloorColdStarts { get; } = [];

    public void Add(IReadOnlyList<OperationResult> results) => _results.AddRange(results);

    public string ToMarkdown()
    {
        static string F(double value, string format = "F1") => double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);
        static string Met(bool met) => met ? "met" : "**not met**";

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Load run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {options.Clients} concurrent clients, warm-up {options.WarmupSeconds} s, measured {options.DurationSeconds} s per scenario; SQLite (WAL), Release builds, Production environment, 127.0.0.1.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}. Load average (1/5/15 min) before the run {LoadBefore}, after {LoadAfter}.");
        md.AppendLine();
        md.AppendLine("| scenario | operation | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in _results)
        {
            var op = r.Main ? $"**{r.Operation.Trim()}**" : "↳ " + r.Operation.Trim();
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario} | {op} | {r.Requests} | {r.Errors} | {F(r.Throughput)} | {F(r.P50Ms)} | {F(r.P95Ms)} | {F(r.P99Ms)} | {F(r.MaxMs)} |");
        }

        var errors = _results.Where(r => r.FirstError is not null).ToList();
        if (errors.Count > 0)
        {
            md.AppendLine();
            foreach (var r in errors)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"First error in {r.Scenario} / {r.Operation.Trim()}: `{r.FirstError!.ReplaceLineEndings(" ")}`");
            }
        }

        if (PurchaseCheck is not null)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Purchase check: {PurchaseCheck}.");
        }

        var floors = _results.Where(r => r.Operation == Scenarios.FloorWrite).ToList();
        var floor = floors.Count == 0 ? double.NaN : floors.Average(r => r.Throughput);
        var redeem = _results.FirstOrDefault(r => r.Operation == Scenarios.RedeemOperation);
        var purchase = _results.FirstOrDefault(r => r.Operation == Scenarios.PurchaseCycle);
        var hostCold = Median(HostColdStarts);
        var floorCold = Median(FloorColdStarts);

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Floor throughput (mean of the runs before and after): {F(floor)} req/s.");
        md.AppendLine();
        md.AppendLine("| figure | measured | target | |");
        md.AppendLine("| --- | ---: | --- | --- |");
        if (redeem is not null)
        {
            var ratio = redeem.Throughput / floor;
            md.AppendLine(CultureInfo.InvariantCulture, $"| redeem throughput / floor | {F(ratio, "F2")} ({F(redeem.Throughput)} / {F(floor)} req/s) | ≥ 0.5 | {Met(ratio >= 0.5)} |");
        }

        if (purchase is not null)
        {
            var ratio = purchase.Throughput / floor;
            md.AppendLine(CultureInfo.InvariantCulture, $"| purchase → paid → issued throughput / floor | {F(ratio, "F2")} ({F(purchase.Throughput)} / {F(floor)} per s) | ≥ 0.33 | {Met(ratio >= 0.33)} |");
        }

        if (redeem is not null)
        {
            var spread = redeem.P99Ms / redeem.P50Ms;
            md.AppendLine(CultureInfo.InvariantCulture, $"| p99 / p50 redeem latency at {options.Clients} clients | {F(spread, "F2")} ({F(redeem.P99Ms)} / {F(redeem.P50Ms)} ms) | ≤ 3 | {Met(spread <= 3)} |");
        }

        if (HostColdStarts.Count > 0 && FloorColdStarts.Count > 0)
        {
            var ratio = hostCold / floorCold;
            md.AppendLine(CultureInfo.InvariantCulture, $"| cold start host / floor (median of {HostColdStarts.Count}) | {F(ratio, "F2")} ({F(hostCold, "F0")} / {F(floorCold, "F0")} ms) | ≤ 1.5 | {Met(ratio <= 1.5)} |");
        }

        md.AppendLine("| redeem latency at 1M vouchers / at 10k | see Scale | ≤ 1.2 | (bench/OpenMavn.Bench.Scale) |");
        if (HostColdStarts.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Cold start = from `Process.Start` of `dotnet <app>.dll` to the first 200 of a real request, polled every 5 ms: the host's `GET /api/integration/campaigns` with the till's API key (authenticated, reads the database; existing database, migrations checked at start-up as in production), the floor's `POST /write`. Runs (ms): host {string.Join(", ", HostColdStarts.Select(t => t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))}; floor {string.Join(", ", FloorColdStarts.Select(t => t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)))}.");
        }

        return md.ToString();
    }

    private static double Median(List<TimeSpan> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Select(v => v.TotalMilliseconds).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
