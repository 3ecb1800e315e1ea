using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Ledger;
using OpenMavn.Testing.Ledger;

namespace OpenMavn.Testing.Tests;

/// <summary>The built-in hash-chained database ledger, on a fresh SQLite file per test; read back from its table.</summary>
public sealed class DatabaseLedgerConformance : VoucherLedgerConformanceTests
{
    private LedgerDatabaseHost? _host;

    protected override async Task<IVoucherLedger> CreateLedgerAsync()
    {
        _host = await LedgerDatabaseHost.StartAsync();
        var ledger = _host.Services.GetRequiredService<IVoucherLedger>();
        Assert.IsType<DatabaseVoucherLedger>(ledger);
        return ledger;
    }

    protected override Task<IReadOnlyList<Guid>> ReadBackAsync(CancellationToken cancellationToken = default) =>
        _host!.RecordedEventIdsAsync(cancellationToken);

    protected override async Task DisposeLedgerAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    // No BadConfigurations: the database ledger has no settings of its own (its storage is Core's).
}

/// <summary>
/// An in-memory ledger whose receipts are Pending until a block is mined: shows that the kit's hooks fit a ledger
/// whose finality comes later (the shape of the Ethereum ledger to come).
/// </summary>
public sealed class LedgerWithLaterFinalityConformance : VoucherLedgerConformanceTests
{
    private readonly LedgerWithLaterFinality _ledger = new();

    protected override Task<IVoucherLedger> CreateLedgerAsync() => Task.FromResult<IVoucherLedger>(_ledger);

    protected override Task<IReadOnlyList<Guid>> ReadBackAsync(CancellationToken cancellationToken = default) => Task.FromResult(_ledger.EventIds);

    protected override Task AdvanceFinalityAsync(CancellationToken cancellationToken = default) => _ledger.MineAsync();
}
