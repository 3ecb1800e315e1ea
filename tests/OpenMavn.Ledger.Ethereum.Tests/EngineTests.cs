using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using Nethereum.Web3.Accounts;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>The sender against a real anvil: a chain that is down, two workers, foreign nonces, drops, reverts, the fee cap.</summary>
public sealed class EngineTests
{
    [Fact]
    public async Task With_the_chain_down_sales_and_redemptions_are_recorded_and_the_chain_catches_up_later_once()
    {
        var port = Chain.FreePort();
        var rpcUrl = $"http://127.0.0.1:{port}";
        await using var host = await LedgerHost.StartAsync(rpcUrl);
        var shop = await Shop.OpenAsync(host);
        var anna = await shop.CustomerAsync("anna@example.ch");

        // Nothing listens on the port: buying and redeeming work, the ledger only queues.
        var bought = await shop.BuyAsync(anna, 2);
        await shop.RedeemAsync(bought[0].Id, 1000);
        Assert.True(await host.Outbox.DrainAsync() > 0);
        var down = await host.Worker.RunOnceAsync();
        Assert.False(down.ChainReachable);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("unreachable", StringComparison.Ordinal));
        Assert.Equal(3, await host.QueryAsync(db => db.ChainLedgerEvents.CountAsync(e => e.Status == ChainEventStatus.Queued)));
        Assert.Equal(0, await host.QueryAsync(db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null)));

        // The node comes up on that port: everything arrives, once.
        await using var anvil = await Anvil.StartAsync(port: port);
        await host.SettleAsync(rpcUrl);
        var events = await host.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().ToListAsync());
        Assert.All(events, e => Assert.Equal(ChainEventStatus.Confirmed, e.Status));
        var address = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        var records = await ChainReadBack.RecordsAsync(rpcUrl, address);
        Assert.Equal(3, records.Count(r => r.Result == RecordResult.Applied));
        Assert.Equal(3, records.Count);
    }

    [Fact]
    public async Task Two_workers_on_one_database_send_one_at_a_time_without_nonce_collisions()
    {
        await using var anvil = await Anvil.StartAsync();
        var events = new Events();
        var all = events.IssueAndRedeem(40);
        await using var a = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.BatchSize = 10);
        await using var b = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.BatchSize = 10, directory: a.Directory, time: a.Time, ownsDirectory: false);
        await Events.RecordAsync(a.Ledger, all);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        var leaders = new HashSet<int>();
        while (await a.QueryAsync(db => db.ChainLedgerEvents.CountAsync(e => e.Status != ChainEventStatus.Confirmed)) > 0)
        {
            var rounds = await Task.WhenAll(a.Worker.RunOnceAsync(), b.Worker.RunOnceAsync());
            Assert.True(rounds.Count(r => r.Leader) <= 1, "both workers held the lease");
            for (var i = 0; i < 2; i++)
            {
                if (rounds[i].Leader)
                {
                    leaders.Add(i);
                }
            }

            await Chain.MineAsync(anvil.RpcUrl, 2);
            Assert.True(DateTime.UtcNow < deadline, "not settled");
        }

        Assert.Single(leaders);
        var journal = await a.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().ToListAsync());
        Assert.Equal(journal.Count, journal.Select(t => t.Nonce).Distinct().Count());
        Assert.All(journal, t => Assert.Equal(ChainTransactionStatus.Confirmed, t.Status));
        await Events.AssertExactlyOnceAsync(a, anvil.RpcUrl, all);
    }

    [Fact]
    public async Task A_dropped_transaction_and_an_out_of_order_one_are_queued_again_and_applied_once()
    {
        await using var anvil = await Anvil.StartAsync();
        ScriptedRpc? scripted = null;
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.BatchSize = 1, rpc => scripted = new ScriptedRpc(rpc));
        var events = new Events();
        var voucher = Guid.NewGuid();
        var all = new List<LedgerEvent> { events.Issue(voucher), events.Redeem(voucher, 100, 4900) };
        await host.SettleAsync(anvil.RpcUrl);               // deploys
        await Events.RecordAsync(host.Ledger, all);

        // The issue's transaction never reaches the node; the redemption's waits behind the nonce gap.
        var deployBroadcasts = scripted!.Broadcasts;
        scripted.BeforeBroadcast = n => n != deployBroadcasts + 1;
        var sent = await host.Worker.RunOnceAsync();
        Assert.Equal(2, sent.Sent);
        var journal = await host.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().Where(t => t.Kind == ChainTransactionKind.Batch).OrderBy(t => t.Nonce).ToListAsync());
        Assert.Equal(2, journal.Count);

        // Someone uses the operator key outside the engine, with the issue's nonce: the issue is dropped, the
        // redemption is mined first and comes back OutOfOrder.
        var web3 = new Web3(new Account(Anvil.PrivateKeys[0], Anvil.ChainId), anvil.RpcUrl);
        var foreign = await web3.Eth.TransactionManager.SendTransactionAsync(new TransactionInput
        {
            From = web3.TransactionManager.Account.Address,
            To = web3.TransactionManager.Account.Address,
            Value = new HexBigInteger(0),
            Nonce = new HexBigInteger(journal[0].Nonce),
            Gas = new HexBigInteger(21_000),
        });
        Assert.NotNull(foreign);
        await Chain.MineAsync(anvil.RpcUrl, 1);
        scripted.BeforeBroadcast = null;
        var rounds = await host.SettleAsync(anvil.RpcUrl);

        var after = await host.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().Where(t => t.Kind == ChainTransactionKind.Batch).OrderBy(t => t.Nonce).ToListAsync());
        Assert.Equal(ChainTransactionStatus.Dropped, after[0].Status);
        Assert.Equal(ChainTransactionStatus.Confirmed, after[1].Status);
        Assert.True(rounds.Sum(r => r.Requeued) >= 2, string.Join("; ", rounds));
        var rows = await host.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync());
        Assert.All(rows, e => Assert.Equal(ChainEventStatus.Confirmed, e.Status));
        Assert.Equal(2, rows[1].Attempts);
        var address = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        var records = await ChainReadBack.RecordsAsync(anvil.RpcUrl, address);
        Assert.Contains(records, r => r.Result == RecordResult.OutOfOrder && r.Record.Op == LedgerOp.Redeem);
        Assert.Equal(2, records.Count(r => r.Result == RecordResult.Applied));
        Assert.Equal(2, (await new VoucherLedgerContract(new Web3(anvil.RpcUrl), address).GetVoucherAsync(events.CampaignId, 0)).Seq);
    }

    [Fact]
    public async Task A_reverted_transaction_is_queued_again_and_applied_later()
    {
        await using var anvil = await Anvil.StartAsync();
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.Confirmations = 1);
        await host.SettleAsync(anvil.RpcUrl);               // deploys
        var address = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        var events = new Events();
        var all = events.IssueAndRedeem(3);
        await Events.RecordAsync(host.Ledger, all);

        // The operator role moves away (as an operator might by mistake): the engine's batch reverts with NotOperator.
        var stranger = new Account(Anvil.PrivateKeys[1], Anvil.ChainId);
        var owner = new VoucherLedgerContract(new Web3(new Account(Anvil.PrivateKeys[0], Anvil.ChainId), anvil.RpcUrl), address);
        await SetOperatorAsync(anvil.RpcUrl, Anvil.PrivateKeys[0], address, stranger.Address);
        ScriptedRpc? scripted = null;
        host.KeepDatabase = true;
        await host.DisposeAsync();
        await using var again = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.Confirmations = 1, rpc => scripted = new ScriptedRpc(rpc) { FixedGasEstimate = 300_000 }, directory: host.Directory, time: host.Time, ownsDirectory: true);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var round = await again.Worker.RunOnceAsync();
        Assert.Equal(6, round.Sent);
        await Chain.MineAsync(anvil.RpcUrl, 1);
        var reverted = await again.Worker.RunOnceAsync();
        Assert.Equal(6, reverted.Requeued);
        Assert.Contains(await again.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().ToListAsync()), t => t.Status == ChainTransactionStatus.Reverted);

        // The role comes back: the requeued events are applied, once.
        await SetOperatorAsync(anvil.RpcUrl, Anvil.PrivateKeys[1], address, new Account(Anvil.PrivateKeys[0]).Address);
        scripted!.FixedGasEstimate = null;
        await again.SettleAsync(anvil.RpcUrl);
        await Events.AssertExactlyOnceAsync(again, anvil.RpcUrl, all);
        Assert.NotNull(owner);
    }

    [Fact]
    public async Task Nothing_is_sent_while_the_base_fee_is_above_MaxFeePerGas_and_raising_the_cap_sends()
    {
        await using var anvil = await Anvil.StartAsync("--base-fee 2000000000");
        var capped = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.MaxFeePerGas = 1_000_000_000);
        var events = new Events();
        var all = events.IssueAndRedeem(2);
        await Events.RecordAsync(capped.Ledger, all);

        var round = await capped.Worker.RunOnceAsync();
        Assert.Equal(0, round.Sent);
        Assert.Contains("MaxFeePerGas", round.Waiting, StringComparison.Ordinal);
        Assert.Empty(await capped.QueryAsync(db => db.ChainLedgerTransactions.ToListAsync()));
        Assert.Contains(capped.Logs.Lines, l => l.Contains("MaxFeePerGas", StringComparison.Ordinal));
        capped.KeepDatabase = true;
        await capped.DisposeAsync();

        capped.Time.Advance(TimeSpan.FromMinutes(1));
        await using var raised = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.MaxFeePerGas = 10_000_000_000, directory: capped.Directory, time: capped.Time, ownsDirectory: true);
        await raised.SettleAsync(anvil.RpcUrl);
        await Events.AssertExactlyOnceAsync(raised, anvil.RpcUrl, all);
        var journal = await raised.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().ToListAsync());
        Assert.All(journal, t => Assert.True(decimal.Parse(t.MaxFeePerGas, System.Globalization.CultureInfo.InvariantCulture) <= 10_000_000_000m));
    }

    [Fact]
    public async Task The_operator_key_never_appears_in_logs_or_exception_text()
    {
        await using var anvil = await Anvil.StartAsync();
        var logs = new LogLines();
        await using (var host = await LedgerHost.StartAsync(anvil.RpcUrl, logs: logs))
        {
            var shop = await Shop.OpenAsync(host);
            var anna = await shop.CustomerAsync("anna@example.ch");
            await shop.BuyAsync(anna, 2);
            await host.SettleAsync(anvil.RpcUrl);
        }

        // And with the node down, so that errors are logged too.
        await using (var down = await LedgerHost.StartAsync($"http://127.0.0.1:{Chain.FreePort()}", logs: logs))
        {
            await Events.RecordAsync(down.Ledger, new Events().IssueAndRedeem(1));
            await down.Worker.RunOnceAsync();
        }

        var key = Anvil.PrivateKeys[0][2..];
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(key, StringComparison.OrdinalIgnoreCase));

        // A malformed key is refused by name, without repeating it.
        var almost = "0x" + key[..^1] + "z";
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddOpenMavn(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()).AddEthereumLedger(o =>
        {
            o.RpcUrl = anvil.RpcUrl;
            o.ChainId = Anvil.ChainId;
            o.ContractAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
            o.OperatorPrivateKey = almost;
        });
        await using var provider = services.BuildServiceProvider();
        var error = Record.Exception(() => provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());
        Assert.NotNull(error);
        Assert.Contains("OpenMavn:Ledger:Ethereum:OperatorPrivateKey", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(key[..^1], error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    private static async Task SetOperatorAsync(string rpcUrl, string key, string contract, string next)
    {
        var web3 = new Web3(new Account(key, Anvil.ChainId), rpcUrl);
        var handler = web3.Eth.GetContract(VoucherLedgerArtifact.Abi, contract).GetFunction("setOperator");
        var receipt = await handler.SendTransactionAndWaitForReceiptAsync(web3.TransactionManager.Account.Address, new HexBigInteger(200_000), null, null, next);
        Assert.Equal(1, (int)receipt.Status.Value);
    }
}
