using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>RecordAsync only touches the database: keys and order per voucher, idempotency, and two hosts at once.</summary>
public sealed class QueueTests
{
    [Fact]
    public async Task Two_hosts_queueing_issues_of_one_campaign_at_once_get_dense_unique_serials_and_each_event_once()
    {
        var rpcUrl = $"http://127.0.0.1:{Chain.FreePort()}";   // nothing listens: queueing never needs the chain
        await using var a = await LedgerHost.StartAsync(rpcUrl);
        await using var b = await LedgerHost.StartAsync(rpcUrl, directory: a.Directory, time: a.Time, ownsDirectory: false);
        var events = new Events();
        var issues = Enumerable.Range(0, 80).Select(_ => events.Issue(Guid.NewGuid())).ToList();

        // Each event is delivered by both hosts (the outbox delivers at least once), in parallel.
        await Task.WhenAll(
            Task.Run(() => Events.RecordAsync(a.Ledger, issues)),
            Task.Run(() => Events.RecordAsync(b.Ledger, issues.AsEnumerable().Reverse())),
            Task.Run(() => Events.RecordAsync(a.Ledger, issues.Where((_, i) => i % 3 == 0))));

        var keys = await a.QueryAsync(db => db.ChainLedgerVouchers.AsNoTracking().Where(k => k.CampaignId == events.CampaignId).ToListAsync());
        Assert.Equal(Enumerable.Range(0, 80).Select(i => (long)i), keys.Select(k => k.Serial).Order());
        var queued = await a.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().ToListAsync());
        Assert.Equal(80, queued.Count);
        Assert.All(queued, e => Assert.Equal((ChainEventStatus.Queued, 1), (e.Status, e.VoucherSeq)));
    }

    [Fact]
    public async Task An_event_of_a_voucher_never_issued_on_this_ledger_fails_without_blocking_the_others()
    {
        await using var host = await LedgerHost.StartAsync($"http://127.0.0.1:{Chain.FreePort()}");
        var events = new Events();
        var stranger = Guid.NewGuid();
        var voucher = Guid.NewGuid();

        var results = await host.Ledger.RecordAsync([events.Redeem(stranger, 100, 4900), events.Redeem(stranger, 100, 4800), events.Issue(voucher), events.Redeem(voucher, 100, 4900)]);

        Assert.Equal([LedgerReceiptStatus.Failed, LedgerReceiptStatus.Failed, LedgerReceiptStatus.Pending, LedgerReceiptStatus.Pending], results.Select(r => r.Status));
        var rows = await host.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync());
        Assert.Equal([-1, -2, 1, 2], rows.Select(r => r.VoucherSeq));
        Assert.StartsWith("Unknown", rows[0].LastError, StringComparison.Ordinal);
    }
}
