using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Outbox;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

public sealed class LedgerReceiptRefreshTests
{
    [Fact]
    public async Task Pending_receipts_become_confirmed_or_failed_and_never_go_back()
    {
        var chain = new SlowChain();
        await using var host = await StartAsync(chain);
        var (_, _, campaign) = await host.ShopAsync();
        var (_, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 2);
        await host.Outbox.DrainAsync();
        var receipts = await ReceiptsAsync(host);
        Assert.All(receipts, r => Assert.Equal(LedgerReceiptStatus.Pending, r.Status));
        Assert.All(receipts, r => Assert.Equal("0xsent", r.TransactionReference));
        var (confirmed, failed) = (receipts.Single(r => r.VoucherId == vouchers[0].Id), receipts.Single(r => r.VoucherId == vouchers[1].Id));

        // Not final yet: nothing changes.
        Assert.Equal(0, (await RunJobsAsync(host)).ReceiptsRefreshed);

        chain.Answers[confirmed.EventId] = new LedgerWriteResult(confirmed.EventId, LedgerReceiptStatus.Confirmed, "0xmined", 1234);
        chain.Answers[failed.EventId] = new LedgerWriteResult(failed.EventId, LedgerReceiptStatus.Failed, "0xreverted", 1235);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, (await RunJobsAsync(host)).ReceiptsRefreshed);

        var after = await ReceiptsAsync(host);
        var c = after.Single(r => r.EventId == confirmed.EventId);
        Assert.Equal((LedgerReceiptStatus.Confirmed, "0xmined", 1234L, host.Time.GetUtcNow()), (c.Status, c.TransactionReference, c.Position!.Value, c.UpdatedAt));
        var f = after.Single(r => r.EventId == failed.EventId);
        Assert.Equal((LedgerReceiptStatus.Failed, "0xreverted", 1235L), (f.Status, f.TransactionReference, f.Position!.Value));

        // The chain (a lagging node) says pending again: the final answers stay.
        chain.Answers.Clear();
        Assert.Equal(0, (await RunJobsAsync(host)).ReceiptsRefreshed);
        // A ledger message delivered again, answered pending, does not move the receipt back either.
        await host.QueryAsync(db => db.OutboxMessages.Where(m => m.Type == OutboxTypes.LedgerRecord)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.ProcessedAt, (DateTimeOffset?)null)));
        Assert.Equal(2, await host.Outbox.DrainAsync());
        var again = await ReceiptsAsync(host);
        Assert.Equal(LedgerReceiptStatus.Confirmed, again.Single(r => r.EventId == confirmed.EventId).Status);
        Assert.Equal("0xmined", again.Single(r => r.EventId == confirmed.EventId).TransactionReference);
        Assert.Equal(LedgerReceiptStatus.Failed, again.Single(r => r.EventId == failed.EventId).Status);
    }

    [Fact]
    public async Task An_operator_retries_a_vouchers_failed_writes_its_receipts_are_pending_again_then_final()
    {
        var chain = new SlowChain();
        await using var host = await StartAsync(chain);
        var (_, _, campaign) = await host.ShopAsync();
        var (_, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 2);
        await host.Outbox.DrainAsync();
        var receipts = await ReceiptsAsync(host);
        var failed = receipts.Single(r => r.VoucherId == vouchers[0].Id);
        var other = receipts.Single(r => r.VoucherId == vouchers[1].Id);
        chain.Answers[failed.EventId] = new LedgerWriteResult(failed.EventId, LedgerReceiptStatus.Failed, "0xreverted", 7);
        chain.Answers[other.EventId] = new LedgerWriteResult(other.EventId, LedgerReceiptStatus.Failed, "0xreverted", 7);
        await RunJobsAsync(host);
        var admin = Actor.Admin(Guid.NewGuid());

        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<LedgerRetries, IReadOnlyList<Guid>>(r => r.RetryVoucherAsync(Actor.Customer(Guid.NewGuid()), vouchers[0].Id)));
        await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<LedgerRetries, IReadOnlyList<Guid>>(r => r.RetryVoucherAsync(admin, Guid.NewGuid())));
        Assert.Equal([failed.EventId], await host.RunAsync<LedgerRetries, IReadOnlyList<Guid>>(r => r.RetryVoucherAsync(admin, vouchers[0].Id)));
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<LedgerRetries, IReadOnlyList<Guid>>(r => r.RetryVoucherAsync(admin, vouchers[0].Id)));
        Assert.Equal("ledger.nothing_to_retry", conflict.Code);

        // Only the retried voucher's receipt is pending again; the other stays failed.
        var after = await ReceiptsAsync(host);
        Assert.Equal(LedgerReceiptStatus.Pending, after.Single(r => r.EventId == failed.EventId).Status);
        Assert.Equal(LedgerReceiptStatus.Failed, after.Single(r => r.EventId == other.EventId).Status);

        chain.Answers[failed.EventId] = new LedgerWriteResult(failed.EventId, LedgerReceiptStatus.Confirmed, "0xmined", 9);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, (await RunJobsAsync(host)).ReceiptsRefreshed);
        Assert.Equal(LedgerReceiptStatus.Confirmed, (await ReceiptsAsync(host)).Single(r => r.EventId == failed.EventId).Status);
    }

    [Fact]
    public async Task A_chain_that_is_down_leaves_receipts_pending_and_the_other_jobs_run()
    {
        var chain = new SlowChain { Down = true };
        await using var host = await StartAsync(chain);
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition() with { ValidityDays = 1 });
        var (_, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id);
        await host.Outbox.DrainAsync();
        host.Time.Advance(TimeSpan.FromDays(3));

        var round = await RunJobsAsync(host);

        Assert.Equal(0, round.ReceiptsRefreshed);
        Assert.Equal(1, round.VouchersExpired);
        Assert.Equal(LedgerReceiptStatus.Pending, Assert.Single(await ReceiptsAsync(host)).Status);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("pending receipts", StringComparison.Ordinal));

        // Back up: the next round catches up.
        chain.Down = false;
        var receipt = Assert.Single(await ReceiptsAsync(host));
        chain.Answers[receipt.EventId] = new LedgerWriteResult(receipt.EventId, LedgerReceiptStatus.Confirmed, "0xmined", 7);
        Assert.Equal(1, (await RunJobsAsync(host)).ReceiptsRefreshed);
        Assert.Equal(LedgerReceiptStatus.Confirmed, (await ReceiptsAsync(host)).Single(r => r.VoucherId == vouchers[0].Id && r.EventId == receipt.EventId).Status);
    }

    [Fact]
    public async Task Two_hosts_refreshing_at_once_update_each_receipt_once()
    {
        var chain = new SlowChain();
        await using var host = await StartAsync(chain);
        var (_, _, campaign) = await host.ShopAsync();
        await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 5);
        await host.Outbox.DrainAsync();
        foreach (var r in await ReceiptsAsync(host))
        {
            chain.Answers[r.EventId] = new LedgerWriteResult(r.EventId, LedgerReceiptStatus.Confirmed, "0xmined", 9);
        }

        var outcomes = await RaceAsync(3, _ => host.RunAsync<LedgerReceiptRefresh, int>(s => s.RefreshPendingAsync()));

        Assert.Equal(5, outcomes.Sum(o => o.Value));
        Assert.All(await ReceiptsAsync(host), r => Assert.Equal(LedgerReceiptStatus.Confirmed, r.Status));
    }

    private static Task<TestHost> StartAsync(SlowChain chain) =>
        TestHost.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IVoucherLedger>(chain)));

    private static Task<List<LedgerReceipt>> ReceiptsAsync(TestHost host) =>
        host.QueryAsync(db => db.LedgerReceipts.AsNoTracking().ToListAsync());

    /// <summary>A chain-like ledger: a write is sent (pending) and becomes final later, as the test says.</summary>
    private sealed class SlowChain : IVoucherLedger, IVoucherLedgerRetry
    {
        public ConcurrentDictionary<Guid, LedgerWriteResult> Answers { get; } = new();

        private readonly ConcurrentDictionary<Guid, Guid> _voucherOf = new();

        public Task<IReadOnlyList<Guid>> RetryFailedAsync(Guid voucherId, CancellationToken cancellationToken = default)
        {
            var failed = Answers.Values.Where(a => a.Status == LedgerReceiptStatus.Failed && _voucherOf.GetValueOrDefault(a.EventId) == voucherId).Select(a => a.EventId).ToList();
            foreach (var id in failed)
            {
                Answers.TryRemove(id, out _);
            }

            return Task.FromResult<IReadOnlyList<Guid>>(failed);
        }

        public volatile bool Down;

        public string Name => "slow-chain";

        public Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default)
        {
            foreach (var e in events)
            {
                _voucherOf[e.EventId] = e.VoucherId;
            }

            return Task.FromResult<IReadOnlyList<LedgerWriteResult>>(events.Select(e => new LedgerWriteResult(e.EventId, LedgerReceiptStatus.Pending, "0xsent", null)).ToList());
        }

        public Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default)
        {
            if (Down)
            {
                throw new HttpRequestException("connection refused (127.0.0.1:8545)");
            }

            return Task.FromResult<IReadOnlyList<LedgerWriteResult>>(eventIds
                .Select(id => Answers.TryGetValue(id, out var answer) ? answer : new LedgerWriteResult(id, LedgerReceiptStatus.Pending, "0xsent", null))
                .ToList());
        }
    }
}
