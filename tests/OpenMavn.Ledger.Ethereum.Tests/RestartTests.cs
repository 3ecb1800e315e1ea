using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>A worker that dies at the worst moments: a new one on the same database finishes, losing and duplicating nothing.</summary>
public sealed class RestartTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    public enum CrashPoint
    {
        AfterJournalBeforeBroadcast,
        AfterBroadcastBeforeStatus,
        AfterMiningBeforeReceipt,
    }

    [Theory]
    [InlineData(CrashPoint.AfterJournalBeforeBroadcast)]
    [InlineData(CrashPoint.AfterBroadcastBeforeStatus)]
    [InlineData(CrashPoint.AfterMiningBeforeReceipt)]
    public async Task A_restart_in_the_middle_of_a_batch_loses_and_duplicates_nothing(CrashPoint point)
    {
        var events = new Events();
        var all = events.IssueAndRedeem(30);
        ScriptedRpc? scripted = null;
        var first = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.BatchSize = 25, rpc => scripted = new ScriptedRpc(rpc));
        List<Core.Ledger.LedgerEvent> sentBeforeCrash;
        try
        {
            await first.SettleAsync(anvil.RpcUrl);             // deploys the contract
            await Events.RecordAsync(first.Ledger, all);
            var deployBroadcasts = scripted!.Broadcasts;
            switch (point)
            {
                case CrashPoint.AfterJournalBeforeBroadcast:
                    scripted.BeforeBroadcast = n => n > deployBroadcasts ? throw new SimulatedCrashException("before broadcast") : true;
                    break;
                case CrashPoint.AfterBroadcastBeforeStatus:
                    scripted.AfterBroadcast = n =>
                    {
                        if (n > deployBroadcasts)
                        {
                            throw new SimulatedCrashException("after broadcast");
                        }
                    };
                    break;
                case CrashPoint.AfterMiningBeforeReceipt:
                    // The first round sends (anvil mines at once); the next one dies asking for the receipt.
                    await first.Worker.RunOnceAsync();
                    scripted.BeforeReceipt = _ => throw new SimulatedCrashException("before the receipt");
                    break;
            }

            await Assert.ThrowsAsync<SimulatedCrashException>(() => first.Worker.RunOnceAsync());
            sentBeforeCrash = all;
            var journal = await first.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().Where(t => t.Kind == ChainTransactionKind.Batch).ToListAsync());
            Assert.NotEmpty(journal);
            Assert.All(journal, t => Assert.True(t.Status is ChainTransactionStatus.Signed or ChainTransactionStatus.Broadcast, $"{t.Status}"));
        }
        finally
        {
            first.KeepDatabase = true;
            await first.DisposeAsync();
        }

        // A new process on the same database: the crashed one's lease lapses, then it finishes the work.
        first.Time.Advance(TimeSpan.FromMinutes(1));
        await using var second = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.BatchSize = 25, directory: first.Directory, time: first.Time, ownsDirectory: true);
        var rounds = await second.SettleAsync(anvil.RpcUrl);

        Assert.Equal(0, rounds.Sum(r => r.Requeued + r.Failed));
        await Events.AssertExactlyOnceAsync(second, anvil.RpcUrl, sentBeforeCrash);
        var results = await second.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().Select(e => e.ResultCode).ToListAsync());
        Assert.All(results, code => Assert.Equal(0, code));
    }
}
