using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Hex.HexTypes;
using Nethereum.Web3;
using Nethereum.Web3.Accounts;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>The two ends of "retries": an event that keeps failing is given up after MaxAttempts (visible as Failed), and a
/// configured contract with no code at its address holds the queue (nothing lost) until the code is there.</summary>
public sealed class GiveUpAndMissingContractTests
{
    [Fact]
    public async Task An_event_whose_batch_keeps_reverting_fails_after_MaxAttempts_and_its_receipt_says_Failed()
    {
        await using var anvil = await Anvil.StartAsync();
        ScriptedRpc? scripted = null;
        await using var host = await LedgerHost.StartAsync(
            anvil.RpcUrl,
            o =>
            {
                o.Confirmations = 1;
                o.MaxAttempts = 2;
            },
            rpc => scripted = new ScriptedRpc(rpc));
        await host.SettleAsync(anvil.RpcUrl);               // deploys
        var address = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        var events = new Events();
        var all = events.IssueAndRedeem(1);
        await Events.RecordAsync(host.Ledger, all);

        // The operator role is moved away: every batch reverts (NotOperator) however often it is sent.
        var web3 = new Web3(new Account(Anvil.PrivateKeys[0], Anvil.ChainId), anvil.RpcUrl);
        var receipt = await web3.Eth.GetContract(VoucherLedgerArtifact.Abi, address).GetFunction("setOperator")
            .SendTransactionAndWaitForReceiptAsync(web3.TransactionManager.Account.Address, new HexBigInteger(200_000), null, null, new Account(Anvil.PrivateKeys[1]).Address);
        Assert.Equal(1, (int)receipt.Status.Value);
        scripted!.FixedGasEstimate = 300_000;

        var failed = 0;
        for (var round = 0; round < 20 && failed < all.Count; round++)
        {
            failed += (await host.Worker.RunOnceAsync()).Failed;
            await Chain.MineAsync(anvil.RpcUrl, 1);
            host.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var rows = await host.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync());
        Assert.All(rows, e =>
        {
            Assert.Equal(ChainEventStatus.Failed, e.Status);
            Assert.Equal(2, e.Attempts);
            Assert.Contains("gave up after 2 attempts", e.LastError, StringComparison.Ordinal);
        });
        var receipts = await host.Ledger.GetReceiptsAsync(all.Select(e => e.EventId).ToList());
        Assert.All(receipts, r => Assert.Equal(LedgerReceiptStatus.Failed, r.Status));
        Assert.Equal(2, await host.QueryAsync(db => db.ChainLedgerTransactions.CountAsync(t => t.Kind == ChainTransactionKind.Batch && t.Status == ChainTransactionStatus.Reverted)));

        // The operator fixes the cause (the role comes back) and retries the voucher: its writes go out again, in
        // order, and are applied once.
        var stranger = new Web3(new Account(Anvil.PrivateKeys[1], Anvil.ChainId), anvil.RpcUrl);
        var back = await stranger.Eth.GetContract(VoucherLedgerArtifact.Abi, address).GetFunction("setOperator")
            .SendTransactionAndWaitForReceiptAsync(stranger.TransactionManager.Account.Address, new HexBigInteger(200_000), null, null, web3.TransactionManager.Account.Address);
        Assert.Equal(1, (int)back.Status.Value);
        scripted.FixedGasEstimate = null;
        var retried = await host.Ledger.RetryFailedAsync(all[0].VoucherId);
        Assert.Equal(all.Select(e => e.EventId), retried);
        Assert.Empty(await host.Ledger.RetryFailedAsync(all[0].VoucherId));
        await host.SettleAsync(anvil.RpcUrl);
        await Events.AssertExactlyOnceAsync(host, anvil.RpcUrl, all);
        Assert.All(await host.Ledger.GetReceiptsAsync(all.Select(e => e.EventId).ToList()), r => Assert.Equal(LedgerReceiptStatus.Confirmed, r.Status));
    }

    [Fact]
    public async Task A_configured_contract_with_no_code_holds_the_queue_until_the_code_is_there_then_everything_arrives_once()
    {
        await using var anvil = await Anvil.StartAsync();

        // The first contract account 0 deploys on a fresh chain lands here; nothing is deployed yet.
        const string Expected = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o =>
        {
            o.ContractAddress = Expected;
            o.Confirmations = 1;
        });
        var events = new Events();
        var all = events.IssueAndRedeem(3);
        await Events.RecordAsync(host.Ledger, all);

        var round = await host.Worker.RunOnceAsync();
        Assert.Equal(0, round.Sent);
        Assert.Equal("no contract code", round.Waiting);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("no contract code", StringComparison.Ordinal));
        Assert.Empty(await host.QueryAsync(db => db.ChainLedgerTransactions.ToListAsync()));
        Assert.Equal(all.Count, await host.QueryAsync(db => db.ChainLedgerEvents.CountAsync(e => e.Status == ChainEventStatus.Queued)));

        // The operator deploys the contract (the address it was configured with): the queue drains, once.
        var deployer = new Web3(new Account(Anvil.PrivateKeys[0], Anvil.ChainId), anvil.RpcUrl);
        var deployed = await VoucherLedgerContract.DeployAsync(deployer, deployer.TransactionManager.Account.Address);
        Assert.Equal(Expected, deployed, ignoreCase: true);
        await host.SettleAsync(anvil.RpcUrl);
        await Events.AssertExactlyOnceAsync(host, anvil.RpcUrl, all);
        Assert.DoesNotContain(await host.QueryAsync(db => db.ChainLedgerTransactions.AsNoTracking().ToListAsync()), t => t.Kind == ChainTransactionKind.Deploy);
    }
}
