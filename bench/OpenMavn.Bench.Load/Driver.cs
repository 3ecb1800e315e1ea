using System.Diagnostics;

namespace OpenMavn.Bench.Load;

/// <summary>One iteration of a scenario by client <c>client</c>; it records each operation it timed.</summary>
internal delegate Task Iteration(int client, Recorder recorder);

/// <summary>A scenario: its main operation (the one its throughput is counted on) and one iteration.</summary>
internal sealed record Scenario(string MainOperation, Iteration Iteration);

/// <summary>One client's latencies (Stopwatch ticks) and errors per operation; merged after the run.</summary>
internal sealed class Recorder
{
    public Dictionary<string, (List<long> Latencies, int Errors)> Operations { get; } = [];

    public void Record(string operation, long startTimestamp, bool ok)
    {
        var elapsed = Stopwatch.GetTimestamp() - startTimestamp;
        if (!Operations.TryGetValue(operation, out var entry))
        {
            entry = ([], 0);
        }

        if (ok)
        {
            entry.Latencies.Add(elapsed);
        }
        else
        {
            entry.Errors++;
        }

        Operations[operation] = entry;
    }
}

/// <summary>The statistics of one operation in one scenario.</summary>
internal sealed record OperationResult(string Scenario, string Operation, bool Main, int Requests, int Errors, double Seconds, double P50Ms, double P95Ms, double P99Ms, double MaxMs, string? FirstError)
{
    public double Throughput => (Requests - Errors) / Seconds;
}

/// <summary>Runs scenarios: N clients in closed loops, warm-up W s (discarded), then D s measured.</summary>
internal sealed class Driver(LoadOptions options)
{
    public static HttpClient CreateClient(int clients) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = clients * 2,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            UseCookies = false,
        })
        { Timeout = TimeSpan.FromSeconds(60) };

    public async Task<IReadOnlyList<OperationResult>> RunAsync(string name, Scenario scenario)
    {
        var loadBefore = Machine.LoadAverage();
        Console.Error.WriteLine($"{name}: warm-up {options.WarmupSeconds} s, then {options.DurationSeconds} s with {options.Clients} clients (load average {loadBefore})");
        await PhaseAsync(scenario, TimeSpan.FromSeconds(options.WarmupSeconds));
        var clock = Stopwatch.StartNew();
        var (recorders, firstError) = await PhaseAsync(scenario, TimeSpan.FromSeconds(options.DurationSeconds));
        var seconds = clock.Elapsed.TotalSeconds; // until the last request started before the deadline answered

        var results = new List<OperationResult>();
        foreach (var operation in recorders.SelectMany(r => r.Operations.Keys).Distinct())
        {
            var latencies = recorders.SelectMany(r => r.Operations.TryGetValue(operation, out var e) ? e.Latencies : []).ToArray();
            var errors = recorders.Sum(r => r.Operations.TryGetValue(operation, out var e) ? e.Errors : 0);
            Array.Sort(latencies);
            results.Add(new OperationResult(
                name,
                operation,
                operation == scenario.MainOperation,
                latencies.Length + errors,
                errors,
                seconds,
                Percentile(latencies, 0.50),
                Percentile(latencies, 0.95),
                Percentile(latencies, 0.99),
                latencies.Length == 0 ? double.NaN : Milliseconds(latencies[^1]),
                errors > 0 ? firstError : null));
        }

        foreach (var r in results)
        {
            Console.Error.WriteLine($"  {r.Operation}: {r.Requests} requests, {r.Errors} errors, {r.Throughput:F1}/s, p50 {r.P50Ms:F1} ms, p95 {r.P95Ms:F1} ms, p99 {r.P99Ms:F1} ms, max {r.MaxMs:F1} ms{(r.FirstError is null ? "" : $" (first error: {r.FirstError})")}");
        }

        return results;
    }

    private async Task<(Recorder[] Recorders, string? FirstError)> PhaseAsync(Scenario scenario, TimeSpan duration)
    {
        var recorders = Enumerable.Range(0, options.Clients).Select(_ => new Recorder()).ToArray();
        string? firstError = null;
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(client => Task.Run(async () =>
        {
            var recorder = recorders[client];
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await scenario.Iteration(client, recorder);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or System.Text.Json.JsonException)
                {
                    Interlocked.CompareExchange(ref firstError, $"{ex.GetType().Name}: {ex.Message}", null);
                    recorder.Record(scenario.MainOperation, start, ok: false);
                }
            }
        })));
        firstError ??= recorders.SelectMany(r => r.Operations.Values).Any(e => e.Errors > 0) ? Scenarios.LastError : null;
        return (recorders, firstError);
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    // Nearest rank on the sorted latencies.
    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : Milliseconds(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)]);
}
