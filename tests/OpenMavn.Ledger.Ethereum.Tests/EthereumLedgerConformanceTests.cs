using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;
using OpenMavn.Testing.Ledger;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>
/// The ledger conformance kit on a real anvil: finality = the worker sends, blocks are mined, the worker confirms.
/// What the ledger holds is read from the chain (BatchApplied logs and the calldata they came with).
/// </summary>
public sealed class EthereumLedgerConformanceTests(AnvilFixture anvil) : VoucherLedgerConformanceTests, IClassFixture<AnvilFixture>
{
    private LedgerHost? _host;

    private LedgerHost Host => _host ?? throw new InvalidOperationException("Not created.");

    protected override IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations =>
    [
        ("OpenMavn:Ledger:Ethereum:RpcUrl", b => b.AddEthereumLedger(o => Valid(o).RpcUrl = "not a url")),
        ("OpenMavn:Ledger:Ethereum:RpcUrl", b => b.AddEthereumLedger(o => Valid(o).RpcUrl = "ftp://127.0.0.1:8545")),
        ("OpenMavn:Ledger:Ethereum:ChainId", b => b.AddEthereumLedger(o => Valid(o).ChainId = 0)),
        ("OpenMavn:Ledger:Ethereum:ContractAddress", b => b.AddEthereumLedger(o => Valid(o).ContractAddress = "")),
        ("OpenMavn:Ledger:Ethereum:ContractAddress", b => b.AddEthereumLedger(o => Valid(o).ContractAddress = "0x1234")),
        ("OpenMavn:Ledger:Ethereum:OperatorPrivateKey", b => b.AddEthereumLedger(o => Valid(o).OperatorPrivateKey = "")),
        ("OpenMavn:Ledger:Ethereum:OperatorPrivateKey", b => b.AddEthereumLedger(o => Valid(o).OperatorPrivateKey = Anvil.PrivateKeys[0][..^1] + "g")),
        ("OpenMavn:Ledger:Ethereum:Confirmations", b => b.AddEthereumLedger(o => Valid(o).Confirmations = -1)),
        ("OpenMavn:Ledger:Ethereum:BatchSize", b => b.AddEthereumLedger(o => Valid(o).BatchSize = 0)),
        ("OpenMavn:Ledger:Ethereum:MaxFeePerGas", b => b.AddEthereumLedger(o => Valid(o).MaxFeePerGas = -1)),
        ("OpenMavn:Ledger:Ethereum:MaxPriorityFeePerGas", b => b.AddEthereumLedger(o => Valid(o).MaxPriorityFeePerGas = -1)),
        ("OpenMavn:Ledger:Ethereum:MaxInFlightTransactions", b => b.AddEthereumLedger(o => Valid(o).MaxInFlightTransactions = 0)),
        ("OpenMavn:Ledger:Ethereum:PollInterval", b => b.AddEthereumLedger(o => Valid(o).PollInterval = TimeSpan.Zero)),
        ("OpenMavn:Ledger:Ethereum:RebroadcastAfter", b => b.AddEthereumLedger(o => Valid(o).RebroadcastAfter = TimeSpan.Zero)),
        ("OpenMavn:Ledger:Ethereum:RequestTimeout", b => b.AddEthereumLedger(o => Valid(o).RequestTimeout = TimeSpan.Zero)),
        ("OpenMavn:Ledger:Ethereum:LeaseDuration", b => b.AddEthereumLedger(o => Valid(o).LeaseDuration = TimeSpan.Zero)),
        ("OpenMavn:Ledger:Ethereum:MaxAttempts", b => b.AddEthereumLedger(o => Valid(o).MaxAttempts = 0)),
        ("OpenMavn:Ledger:Ethereum:QueueDelayDegradedAfter", b => b.AddEthereumLedger(o => Valid(o).QueueDelayDegradedAfter = TimeSpan.Zero)),
        ("OpenMavn:Ledger:Ethereum:NativeCurrency", b => b.AddEthereumLedger(o => Valid(o).NativeCurrency = " ")),
    ];

    protected override async Task<IVoucherLedger> CreateLedgerAsync()
    {
        _host = await LedgerHost.StartAsync(anvil.RpcUrl);
        return _host.Ledger;
    }

    protected override async Task DisposeLedgerAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    /// <summary>A transfer moves the voucher from its current holder (the suite's holder) to someone new, as Core sends it.</summary>
    protected override LedgerEvent NewEvent(LedgerEventKind kind = LedgerEventKind.Issued, Guid? voucherId = null, long amount = 5000, long balanceAfter = 5000)
    {
        var e = base.NewEvent(kind, voucherId, amount, balanceAfter);
        return kind == LedgerEventKind.Transferred ? e with { PreviousHolderId = HolderId, HolderId = Guid.NewGuid() } : e;
    }

    protected override async Task AdvanceFinalityAsync(CancellationToken cancellationToken = default) => await Host.SettleAsync(anvil.RpcUrl);

    /// <summary>
    /// What the chain holds once the ledger has written what it queued: RecordAsync only queues, so the worker runs
    /// (and blocks are mined) first; then the records are read from the chain's logs and calldata.
    /// </summary>
    protected override async Task<IReadOnlyList<Guid>> ReadBackAsync(CancellationToken cancellationToken = default)
    {
        await Host.SettleAsync(anvil.RpcUrl);
        var contract = await Host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync(cancellationToken);
        if (contract is null)
        {
            return [];
        }

        var applied = (await ChainReadBack.RecordsAsync(anvil.RpcUrl, contract.Address)).Where(r => r.Result == RecordResult.Applied).ToList();
        var keys = await Host.QueryAsync(db => db.ChainLedgerVouchers.AsNoTracking().ToListAsync(cancellationToken));
        var events = await Host.QueryAsync(db => db.ChainLedgerEvents.AsNoTracking().ToListAsync(cancellationToken));
        return applied.Select(r =>
        {
            var voucher = keys.Single(k => k.CampaignId == r.CampaignId && k.Serial == r.Record.Serial).VoucherId;
            return events.Single(e => e.VoucherId == voucher && e.VoucherSeq == r.Record.Seq).EventId;
        }).ToList();
    }

    private static EthereumLedgerOptions Valid(EthereumLedgerOptions o)
    {
        o.RpcUrl = "http://127.0.0.1:8545";
        o.ChainId = Anvil.ChainId;
        o.ContractAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        o.OperatorPrivateKey = Anvil.PrivateKeys[0];
        return o;
    }
}
