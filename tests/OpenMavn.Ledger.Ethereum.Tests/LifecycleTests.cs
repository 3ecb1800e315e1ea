using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Web3;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Vouchers;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>Core's flows, mirrored on anvil and read back from the chain with a separate client.</summary>
public sealed class LifecycleTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    /// <summary>The history entries that are ledger events (a gift sent but not yet claimed is not).</summary>
    private static readonly VoucherActivityKind[] Mirrored =
    [
        VoucherActivityKind.Issued, VoucherActivityKind.Transferred, VoucherActivityKind.Exchanged, VoucherActivityKind.Redeemed,
        VoucherActivityKind.RedemptionReversed, VoucherActivityKind.Expired, VoucherActivityKind.Refunded,
    ];

    [Fact]
    public async Task Issue_gift_exchange_partial_redeem_redeem_expire_refund_are_mirrored_and_read_back_from_the_chain()
    {
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.BatchSize = 3);
        var shop = await Shop.OpenAsync(host);
        var anna = await shop.CustomerAsync("anna@example.ch");
        var ben = await shop.CustomerAsync("ben@example.ch");
        var bought = await shop.BuyAsync(anna, 3);
        var (v1, v2, v3) = (bought[0].Id, bought[1].Id, bought[2].Id);

        await shop.GiftAsync(anna, v1, ben, "ben@example.ch");          // v1: anna → ben
        await shop.ExchangeAsync(anna, v2, ben, v1);                     // v2 → ben, v1 → anna
        await shop.RedeemAsync(v2, 2000);                                // partial
        await shop.RedeemAsync(v2, null);                                // the rest
        await shop.RefundAsync(v1);
        await host.Outbox.DrainAsync();
        host.Time.Advance(TimeSpan.FromDays(400));
        await host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync());  // v3
        var rounds = await host.SettleAsync(anvil.RpcUrl);

        Assert.All(rounds, r => Assert.True(r.Leader && r.ChainReachable, r.ToString()));
        Assert.Equal(0, rounds.Sum(r => r.Failed + r.Requeued));

        // Read back with a separate client and the contract's views only.
        var address = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        var reader = new VoucherLedgerContract(new Web3(anvil.RpcUrl), address);
        var issued = (await ChainReadBack.RecordsAsync(anvil.RpcUrl, address))
            .Where(r => r.Record.Op == LedgerOp.Issue)
            .ToDictionary(r => r.Record.VoucherId, r => r.Record.Serial);
        var campaign = await reader.GetCampaignAsync(shop.Campaign.Id);
        Assert.Equal(new OnChainCampaign(100, 2, 3, 5000), campaign);

        var vouchers = await host.QueryAsync(db => db.Vouchers.AsNoTracking().Where(v => v.CampaignId == shop.Campaign.Id).ToListAsync());
        var activities = await host.QueryAsync(db => db.VoucherActivities.AsNoTracking().ToListAsync());
        var expected = new Dictionary<Guid, (OnChainStatus Status, uint Balance, ushort Seq)>
        {
            [v1] = (OnChainStatus.Refunded, 0, 4),     // issued, gifted, exchanged, refunded
            [v2] = (OnChainStatus.Redeemed, 0, 4),     // issued, exchanged, redeemed twice
            [v3] = (OnChainStatus.Expired, 5000, 2),   // issued, expired
        };
        foreach (var voucher in vouchers)
        {
            var onChain = await reader.GetVoucherAsync(shop.Campaign.Id, issued[voucher.Id]);
            Assert.Equal(CustodialAccount.For(voucher.OwnerId), onChain.Holder);
            Assert.Equal(expected[voucher.Id], (onChain.Status, onChain.Balance, onChain.Seq));
            Assert.Equal(activities.Count(a => a.VoucherId == voucher.Id && Mirrored.Contains(a.Kind)), onChain.Seq);
        }

        Assert.Equal(CustodialAccount.For(anna.Id), (await reader.GetVoucherAsync(shop.Campaign.Id, issued[v1])).Holder);
        Assert.Equal(CustodialAccount.For(ben.Id), (await reader.GetVoucherAsync(shop.Campaign.Id, issued[v2])).Holder);

        // Every event's receipt: confirmed, with the transaction and block the chain has.
        var events = await host.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().ToListAsync());
        Assert.Equal(10, events.Count);
        var receipts = await host.Ledger.GetReceiptsAsync(events.Select(e => e.EventId).ToList());
        var web3 = new Web3(anvil.RpcUrl);
        foreach (var receipt in receipts)
        {
            Assert.Equal(LedgerReceiptStatus.Confirmed, receipt.Status);
            var mined = await web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(receipt.TransactionReference);
            Assert.Equal(receipt.Position, (long)mined.BlockNumber.Value);
        }

        // The reader capability agrees with the chain.
        var states = await host.Ledger.ReadVouchersAsync(vouchers.Select(v => new LedgerVoucherRef(v.Id, v.CampaignId)).ToList());
        Assert.All(states, s => Assert.Equal(host.Ledger.HolderOf(vouchers.Single(v => v.Id == s.VoucherId).OwnerId), s.Holder));
        Assert.Equal([LedgerVoucherStatus.Refunded, LedgerVoucherStatus.Redeemed, LedgerVoucherStatus.Expired], [.. new[] { v1, v2, v3 }.Select(id => states.Single(s => s.VoucherId == id).Status)]);
        var campaignState = Assert.Single(await host.Ledger.ReadCampaignsAsync([shop.Campaign.Id]));
        Assert.Equal((true, 3L, 2L, 100L), (campaignState.Found, campaignState.Issued, campaignState.Outstanding, campaignState.Supply));
    }
}
