using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Testing.Tests;

/// <summary>OpenMavn Core on a fresh SQLite file (migrated), background jobs off: the database ledger's home.</summary>
internal sealed class LedgerDatabaseHost : IAsyncDisposable
{
    private readonly string _directory;

    private LedgerDatabaseHost(string directory, ServiceProvider services)
    {
        _directory = directory;
        Services = services;
    }

    public ServiceProvider Services { get; }

    public static async Task<LedgerDatabaseHost> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-conformance", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var services = new ServiceCollection();
        services.AddOpenMavn(o => o.Jobs.Enabled = false)
            .AddSqliteStorage($"Data Source={Path.Combine(directory, "openmavn.db")}")
            .AddDatabaseLedger();
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        await provider.MigrateOpenMavnDatabaseAsync();
        return new LedgerDatabaseHost(directory, provider);
    }

    /// <summary>The event ids of the ledger's records, in sequence order, straight from the table.</summary>
    public async Task<IReadOnlyList<Guid>> RecordedEventIdsAsync(CancellationToken cancellationToken)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        return await db.LedgerRecords.AsNoTracking().OrderBy(r => r.Sequence).Select(r => r.EventId).ToListAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// An in-memory ledger shaped like a chain: a write is Pending (with its transaction reference) until
/// <see cref="MineAsync"/> makes everything sent so far final (Confirmed, with a block number). Correct by default,
/// so the kit's hooks are shown to fit a ledger whose finality comes later; the flags break it on purpose for the
/// Kit_catches tests.
/// </summary>
internal sealed class LedgerWithLaterFinality : IVoucherLedger
{
    private readonly Lock _gate = new();
    private readonly List<(LedgerEvent Event, string Transaction)> _entries = [];
    private readonly Dictionary<Guid, long> _blocks = [];
    private long _block;

    public string Name => "memory-chain";

    /// <summary>Broken: appends a replayed event again instead of answering its earlier receipt.</summary>
    public bool DuplicatesOnReplay { get; init; }

    /// <summary>Broken: stores a batch back to front.</summary>
    public bool ReversesBatches { get; init; }

    /// <summary>Broken: answers Confirmed for ids it never recorded.</summary>
    public bool ConfirmsUnknownIds { get; init; }

    /// <summary>Broken: ignores the cancellation token.</summary>
    public bool IgnoresCancellation { get; init; }

    public IReadOnlyList<Guid> EventIds
    {
        get
        {
            lock (_gate)
            {
                return _entries.Select(e => e.Event.EventId).ToList();
            }
        }
    }

    public async Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        await Task.Yield();
        if (!IgnoresCancellation)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        lock (_gate)
        {
            foreach (var e in ReversesBatches ? events.Reverse() : events)
            {
                if (DuplicatesOnReplay || !_entries.Any(x => x.Event.EventId == e.EventId))
                {
                    _entries.Add((e, "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())));
                }
            }

            return events.Select(e => Receipt(e.EventId, useLatest: DuplicatesOnReplay)!).ToList();
        }
    }

    public async Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventIds);
        await Task.Yield();
        if (!IgnoresCancellation)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        lock (_gate)
        {
            return eventIds
                .Select(id => Receipt(id, useLatest: false) ?? (ConfirmsUnknownIds ? new LedgerWriteResult(id, LedgerReceiptStatus.Confirmed, "0xfeed", 1) : null))
                .OfType<LedgerWriteResult>()
                .ToList();
        }
    }

    /// <summary>Mines a block holding every pending write.</summary>
    public Task MineAsync()
    {
        lock (_gate)
        {
            _block++;
            foreach (var (e, _) in _entries)
            {
                _blocks.TryAdd(e.EventId, _block);
            }
        }

        return Task.CompletedTask;
    }

    private LedgerWriteResult? Receipt(Guid eventId, bool useLatest)
    {
        var matches = _entries.Where(x => x.Event.EventId == eventId).ToList();
        if (matches.Count == 0)
        {
            return null;
        }

        var transaction = (useLatest ? matches[^1] : matches[0]).Transaction;
        return _blocks.TryGetValue(eventId, out var block)
            ? new LedgerWriteResult(eventId, LedgerReceiptStatus.Confirmed, transaction, block)
            : new LedgerWriteResult(eventId, LedgerReceiptStatus.Pending, transaction, null);
    }
}
