using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Web3;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

/// <summary>Ledger events as Core sends them, for tests that talk to the ledger directly.</summary>
internal sealed class Events(Guid? campaignId = null, int supply = 1000, long faceValue = 5000)
{
    private long _clock;

    public Guid CampaignId { get; } = campaignId ?? Guid.NewGuid();

    public Guid Holder { get; } = Guid.NewGuid();

    public LedgerEvent Issue(Guid voucherId) => New(LedgerEventKind.Issued, voucherId, supply, Holder, null, faceValue, faceValue);

    public LedgerEvent Redeem(Guid voucherId, long amount, long balanceAfter) => New(LedgerEventKind.Redeemed, voucherId, 0, Holder, null, amount, balanceAfter);

    public LedgerEvent Transfer(Guid voucherId, Guid from, Guid to) => New(LedgerEventKind.Transferred, voucherId, 0, to, from, 0, faceValue);

    /// <summary>Issues <paramref name="count"/> new vouchers and redeems 100 of each: two events per voucher.</summary>
    public List<LedgerEvent> IssueAndRedeem(int count)
    {
        var events = new List<LedgerEvent>();
        for (var i = 0; i < count; i++)
        {
            var voucher = Guid.NewGuid();
            events.Add(Issue(voucher));
            events.Add(Redeem(voucher, 100, faceValue - 100));
        }

        return events;
    }

    private LedgerEvent New(LedgerEventKind kind, Guid voucherId, int campaignSupply, Guid? holder, Guid? previous, long amount, long balanceAfter) =>
        new(Guid.NewGuid(), kind, voucherId, CampaignId, Guid.Empty, campaignSupply, holder, previous, amount, balanceAfter, "CHF",
            LedgerHost.Start.AddSeconds(Interlocked.Increment(ref _clock)));

    /// <summary>Records events one by one, as the outbox does.</summary>
    public static async Task RecordAsync(IVoucherLedger ledger, IEnumerable<LedgerEvent> events)
    {
        foreach (var e in events)
        {
            await ledger.RecordAsync([e]);
        }
    }

    /// <summary>
    /// Checks on chain, through the contract's views: every voucher's seq equals its number of events, and the
    /// contract's batch transactions equal the journal's mined batch rows (nothing sent twice).
    /// </summary>
    public static async Task AssertExactlyOnceAsync(LedgerHost host, string rpcUrl, IReadOnlyList<LedgerEvent> events)
    {
        var address = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        var reader = new VoucherLedgerContract(new Web3(rpcUrl), address);
        var keys = await host.QueryAsync(db => db.ChainLedgerVouchers.AsNoTracking().ToDictionaryAsync(k => k.VoucherId));
        foreach (var voucher in events.GroupBy(e => e.VoucherId))
        {
            var key = keys[voucher.Key];
            var onChain = await reader.GetVoucherAsync(key.CampaignId, (uint)key.Serial);
            Assert.True(voucher.Count() == onChain.Seq, $"voucher {voucher.Key}: {voucher.Count()} events, seq {onChain.Seq} on chain");
        }

        var records = await ChainReadBack.RecordsAsync(rpcUrl, address);
        var batches = records.Select(r => r.TransactionHash).Distinct().Count();
        var journal = await host.QueryAsync(db => db.ChainLedgerTransactions.CountAsync(t => t.Kind == ChainTransactionKind.Batch && t.Status == ChainTransactionStatus.Confirmed));
        Assert.Equal(journal, batches);
        Assert.Equal(events.Count, records.Count(r => r.Result == RecordResult.Applied));
        var receipts = await host.Ledger.GetReceiptsAsync(events.Select(e => e.EventId).ToList());
        Assert.All(receipts, r => Assert.Equal(LedgerReceiptStatus.Confirmed, r.Status));
    }
}
