using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>A block replaced before it was deep enough: its transaction is followed again, nothing is confirmed early or twice.</summary>
public sealed class ReorgTests
{
    [Fact]
    public async Task A_reorganised_block_sends_its_transaction_again_and_confirms_it_once()
    {
        await using var anvil = await Anvil.StartAsync();
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.Confirmations = 3);
        await host.SettleAsync(anvil.RpcUrl);                            // deploys
        var events = new Events();
        var all = events.IssueAndRedeem(3);
        await Events.RecordAsync(host.Ledger, all);

        await host.Worker.RunOnceAsync();                                // sent, mined at once
        await host.Worker.RunOnceAsync();                                // receipt read: Applied
        var mined = Assert.Single(await host.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().Where(t => t.Kind == ChainTransactionKind.Batch).ToListAsync()));
        Assert.Equal(ChainTransactionStatus.Mined, mined.Status);

        // The block with the batch and the one after it are replaced by empty ones; then the chain grows past the depth.
        await Chain.MineAsync(anvil.RpcUrl, 1);
        await Chain.CallAsync(anvil.RpcUrl, "anvil_reorg", 2, Array.Empty<object>());
        await Chain.MineAsync(anvil.RpcUrl, 3);
        var round = await host.Worker.RunOnceAsync();
        Assert.Equal(0, round.Confirmed);
        var followed = await host.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().SingleAsync(t => t.Id == mined.Id));
        Assert.NotEqual(ChainTransactionStatus.Confirmed, followed.Status);
        Assert.Contains(host.Logs.Lines, l => l.Contains("reorganisation", StringComparison.Ordinal));

        await host.SettleAsync(anvil.RpcUrl);
        await Events.AssertExactlyOnceAsync(host, anvil.RpcUrl, all);
    }
}
