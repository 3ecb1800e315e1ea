using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Bench.Micro;

/// <summary>
/// <see cref="OutboxDispatcher.DrainAsync"/> over <see cref="Messages"/> queued notification messages, delivered by
/// the built-in <see cref="LoggingNotificationSender"/> (logging has no provider, so the line is not written) on a
/// temporary SQLite file migrated like a host's. Each iteration queues the messages first (not timed); the time shown
/// is per message (OperationsPerInvoke), so messages per second = 1 s / Mean.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class OutboxBenchmarks
{
    private string _directory = "";
    private ServiceProvider _services = null!;
    private int _round;

    /// <summary>Messages queued per iteration.</summary>
    public const int Messages = 500;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "openmavn-bench-outbox", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOpenMavn(o => o.Jobs.Enabled = false)
            .AddSqliteStorage($"Data Source={Path.Combine(_directory, "outbox.db")}");
        _services = services.BuildServiceProvider();
        _services.MigrateOpenMavnDatabaseAsync().GetAwaiter().GetResult();
    }

    [IterationSetup]
    public void Queue()
    {
        _round++;
        using var scope = _services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var outbox = scope.ServiceProvider.GetRequiredService<OutboxWriter>();
        for (var i = 0; i < Messages; i++)
        {
            outbox.Notify(new NotificationMessage(
                NotificationTypes.VoucherRedeemed,
                new NotificationRecipient(Guid.NewGuid(), "anna@example.ch", "Anna"),
                "de",
                new Dictionary<string, string> { ["campaignName"] = "Kaffee-Gutschein", ["merchantName"] = "Café Sonne", ["amount"] = "CHF 50.00" },
                $"bench:{_round}:{i}"));
        }

        db.SaveChanges();
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public Task<int> Drain() => _services.GetRequiredService<OutboxDispatcher>().DrainAsync();

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>One invocation per iteration (the queue is refilled before each), 2 warm-up and 6 measured iterations.</summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(6).WithInvocationCount(1).WithUnrollFactor(1).WithId("Short"));
            AddDiagnoser(MemoryDiagnoser.Default);
        }
    }
}
