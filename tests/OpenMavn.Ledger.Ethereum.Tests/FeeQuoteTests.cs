using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>Fee quotes from the real contract, and the per-voucher gas constants they use pinned to what the chain charges.</summary>
public sealed class FeeQuoteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_zero_fee_chain_quotes_zero_wei_with_the_gas_a_batched_issue_takes()
    {
        await using var anvil = await Anvil.StartAsync("--base-fee 0 --gas-price 0");
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl);
        await host.SettleAsync(anvil.RpcUrl);

        var quote = await host.Ledger.EstimateAsync(new LedgerFeeRequest(Guid.NewGuid(), 500, 5000, VoucherKind.SingleUse));

        Assert.Equal("ethereum", quote.Ledger);
        Assert.Equal("0", quote.GasPriceWei);
        Assert.Equal("0", quote.IssueTotalWei);
        Assert.Equal(0m, quote.IssueTotalNative);
        Assert.Equal("ETH", quote.NativeCurrency);
        Assert.InRange(quote.GasPerIssue, 5_000, 60_000);
        Assert.Equal(quote.GasPerIssue + EthereumVoucherLedger.TransferGas + EthereumVoucherLedger.RedeemGas, quote.GasPerLifecycle);
    }

    [Fact]
    public async Task A_chain_with_fees_quotes_base_fee_plus_tip_times_gas()
    {
        await using var anvil = await Anvil.StartAsync("--base-fee 3000000000");
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.MaxPriorityFeePerGas = 1_000_000_000);
        await host.SettleAsync(anvil.RpcUrl);

        var quote = await host.Ledger.EstimateAsync(new LedgerFeeRequest(Guid.NewGuid(), 10, 5000, VoucherKind.SingleUse));

        var price = decimal.Parse(quote.GasPriceWei, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(price, 1_000_000_001m, 4_000_000_000m);
        Assert.Equal(price * quote.GasPerIssue * 10, decimal.Parse(quote.IssueTotalWei, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(price * quote.GasPerLifecycle * 10 / 1_000_000_000_000_000_000m, quote.LifecycleTotalNative);
    }

    /// <summary>The quote's transfer and redeem gas are constants; they must stay within 10 % of what a full batch really uses.</summary>
    [Fact]
    public async Task The_transfer_and_redeem_gas_constants_match_the_chain_within_ten_percent()
    {
        await using var anvil = await Anvil.StartAsync("--base-fee 0 --gas-price 0");
        const int count = 200;
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.BatchSize = count);
        await host.SettleAsync(anvil.RpcUrl);
        var events = new Events();
        var vouchers = Enumerable.Range(0, 2 * count).Select(_ => Guid.NewGuid()).ToList();
        var next = Guid.NewGuid();
        var issueGas = await BatchGasAsync(host, anvil.RpcUrl, vouchers.Take(count).Select(events.Issue));
        await BatchGasAsync(host, anvil.RpcUrl, vouchers.Skip(count).Select(events.Issue));

        // Transfers and redemptions come in no particular order and rarely meet a neighbour in the same batch (as
        // customers make them): one voucher per storage slot (even serials), shuffled, each slot cold.
        var random = new Random(5);
        var scattered = vouchers.Where((_, i) => i % 2 == 0).OrderBy(_ => random.Next()).ToList();
        var transferGas = await BatchGasAsync(host, anvil.RpcUrl, scattered.Select(v => events.Transfer(v, events.Holder, next)));
        scattered = [.. scattered.OrderBy(_ => random.Next())];
        var redeemGas = await BatchGasAsync(host, anvil.RpcUrl, scattered.Select(v => events.Redeem(v, 100, 4900)));
        output.WriteLine($"per voucher in a batch of {count}: issue {issueGas / count}, transfer {transferGas / count}, redeem {redeemGas / count}");

        Assert.InRange(transferGas / (double)count, EthereumVoucherLedger.TransferGas * 0.9, EthereumVoucherLedger.TransferGas * 1.1);
        Assert.InRange(redeemGas / (double)count, EthereumVoucherLedger.RedeemGas * 0.9, EthereumVoucherLedger.RedeemGas * 1.1);
    }

    private static async Task<long> BatchGasAsync(LedgerHost host, string rpcUrl, IEnumerable<LedgerEvent> events)
    {
        var before = await host.QueryAsync(db => db.ChainLedgerTransactions.Select(t => t.Id).ToListAsync());
        await Events.RecordAsync(host.Ledger, events);
        await host.SettleAsync(rpcUrl);
        var batch = Assert.Single(await host.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().Where(t => !before.Contains(t.Id)).ToListAsync()));
        return batch.GasUsed!.Value;
    }
}
