using System.Globalization;
using System.Numerics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Persistence;
using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum;

/// <summary>What one round of the <see cref="EthereumLedgerWorker"/> did.</summary>
/// <param name="Leader">False when another host holds the sender lease (then the round did nothing).</param>
/// <param name="ChainReachable">False when the node could not be reached (the round stopped there; nothing is lost).</param>
/// <param name="Sent">Events put into new transactions.</param>
/// <param name="Applied">Events applied by mined transactions.</param>
/// <param name="Confirmed">Events that became final.</param>
/// <param name="Requeued">Events queued again (reverted, dropped or out-of-order transactions).</param>
/// <param name="Failed">Events the chain refused for good.</param>
/// <param name="Waiting">Why the round did not send, when it could not (fee above the cap, wrong chain, no contract).</param>
public sealed record EthereumWorkerRound(bool Leader, bool ChainReachable, int Sent, int Applied, int Confirmed, int Requeued, int Failed, string? Waiting);

/// <summary>
/// Sends the queued voucher events to the chain and follows them to finality. One round: take the sender lease (one
/// host at a time), check the chain id, find or (Development) deploy the contract, follow in-flight transactions
/// (receipts, per-record results, dropped and reverted ones, rebroadcasts of the same signed bytes), confirm what is
/// deep enough, then sign new batches — journalled before they are broadcast, so a crash at any point neither loses
/// nor duplicates an event. Every RPC failure leaves the state as it is for the next round.
/// </summary>
public sealed partial class EthereumLedgerWorker
{
    private const long GasFloorPerTransaction = 60_000;
    private const long GasFloorPerIssue = 30_000;
    private const long GasFloorPerRecord = 12_000;

    private readonly IServiceScopeFactory _scopes;
    private readonly IEthereumRpc _rpc;
    private readonly OperatorSigner _signer;
    private readonly LedgerContractLocator _contracts;
    private readonly EthereumLedgerOptions _options;
    private readonly IHostEnvironment? _environment;
    private readonly EthereumLedgerHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _holder = Guid.NewGuid().ToString("N");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _verifiedContract;

    internal EthereumLedgerWorker(
        IServiceScopeFactory scopes,
        IEthereumRpc rpc,
        OperatorSigner signer,
        LedgerContractLocator contracts,
        IOptions<EthereumLedgerOptions> options,
        IHostEnvironment? environment,
        EthereumLedgerHealth health,
        TimeProvider time,
        ILogger<EthereumLedgerWorker> logger)
    {
        _scopes = scopes;
        _rpc = rpc;
        _signer = signer;
        _contracts = contracts;
        _options = options.Value;
        _environment = environment;
        _health = health;
        _time = time;
        _logger = logger;
    }

    private static string Ledger => EthereumVoucherLedger.LedgerName;

    /// <summary>Runs one round (see the class summary). Safe to call from several hosts: only the lease holder sends.</summary>
    public async Task<EthereumWorkerRound> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var round = new Round();
            if (!await TryLeaseAsync(cancellationToken))
            {
                return round.Result(false, true);
            }

            try
            {
                var chainId = await _rpc.GetChainIdAsync(cancellationToken);
                _health.Reached();
                if (chainId != _options.ChainId)
                {
                    LogWrongChain(_logger, chainId, _options.ChainId);
                    _health.Problem($"the node reports chain {chainId}, OpenMavn:Ledger:Ethereum:ChainId is {_options.ChainId}");
                    round.Waiting = "wrong chain";
                    return round.Result(true, true);
                }

                var contract = await _contracts.GetContractAsync(cancellationToken);
                await TrackAsync(contract, round, cancellationToken);
                contract ??= await _contracts.GetContractAsync(cancellationToken);
                if (contract is null)
                {
                    await DeployAsync(round, cancellationToken);
                    return round.Result(true, true);
                }

                if (!await VerifyContractAsync(contract, round, cancellationToken))
                {
                    return round.Result(true, true);
                }

                await FinalizeAsync(round, cancellationToken);
                await SendAsync(contract, round, cancellationToken);
                if (round.Waiting is null)
                {
                    _health.Problem(null);
                }

                return round.Result(true, true);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && NethereumRpc.IsUnreachable(ex))
            {
                LogUnreachable(_logger, ex.GetType().Name, ex.Message);
                _health.Unreachable(ex.Message);
                return round.Result(true, false);
            }
            catch (RpcResponseException ex)
            {
                LogNodeRefused(_logger, ex.Message);
                round.Waiting = "node refused: " + ex.Message;
                return round.Result(true, true);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Gives the sender lease up (on shutdown), so another host takes over without waiting for it to lapse.</summary>
    public async Task ReleaseLeaseAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var past = _time.GetUtcNow().AddSeconds(-1);
        await db.ChainLedgerLeases.Where(l => l.Ledger == Ledger && l.Holder == _holder).ExecuteUpdateAsync(s => s.SetProperty(l => l.Until, past), cancellationToken);
    }

    // ---- lease ----

    private async Task<bool> TryLeaseAsync(CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var now = _time.GetUtcNow();
        var until = now + _options.LeaseDuration;
        var taken = await db.ChainLedgerLeases
            .Where(l => l.Ledger == Ledger && (l.Holder == _holder || l.Until < now))
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Holder, _holder).SetProperty(l => l.Until, until), ct);
        if (taken == 1)
        {
            return true;
        }

        if (await db.ChainLedgerLeases.AnyAsync(l => l.Ledger == Ledger, ct))
        {
            return false;
        }

        try
        {
            db.ChainLedgerLeases.Add(new ChainLedgerLease { Ledger = Ledger, Holder = _holder, Until = until });
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            return false;
        }
    }

    // ---- contract ----

    private async Task DeployAsync(Round round, CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        if (await db.ChainLedgerTransactions.AnyAsync(t => t.Ledger == Ledger && t.Kind == ChainTransactionKind.Deploy && (t.Status == ChainTransactionStatus.Signed || t.Status == ChainTransactionStatus.Broadcast), ct))
        {
            round.Waiting = "deploying the contract";
            return;
        }

        if (_environment?.IsDevelopment() != true)
        {
            LogNoContract(_logger);
            _health.Problem("no contract address (OpenMavn:Ledger:Ethereum:ContractAddress)");
            round.Waiting = "no contract";
            return;
        }

        var latest = await _rpc.GetBlockAsync(null, ct) ?? throw new RpcClientUnknownException("The node has no latest block.");
        var fees = FeePolicy.ForSending(latest.BaseFeePerGas, await _rpc.GetGasPriceAsync(ct), _options);
        if (fees is null)
        {
            LogFeeAboveCap(_logger, latest.BaseFeePerGas.ToString(CultureInfo.InvariantCulture), _options.MaxFeePerGas);
            round.Waiting = "base fee above MaxFeePerGas";
            return;
        }

        var data = (VoucherLedgerArtifact.Bytecode.EnsureHexPrefix() + _signer.Address.RemoveHexPrefix().PadLeft(64, '0')).HexToByteArray();
        var estimate = await _rpc.EstimateGasAsync(_signer.Address, null, data.ToHex(true), ct);
        var nonce = await NextNonceAsync(db, ct);
        var gasLimit = Math.Min(estimate * 5 / 4, latest.GasLimit);
        var signed = _signer.Sign(nonce, fees.Value.Priority, fees.Value.MaxFee, gasLimit, null, data);
        var row = NewTransaction(ChainTransactionKind.Deploy, nonce, signed, fees.Value, gasLimit);
        await db.InTransactionAsync(
            _ =>
            {
                db.ChainLedgerTransactions.Add(row);
                return Task.CompletedTask;
            },
            ct);
        LogDeploying(_logger, signed.Hash, nonce);
        round.Waiting = "deploying the contract";
        await BroadcastAsync(db, row, ct);
    }

    private async Task<bool> VerifyContractAsync(VoucherLedgerContract contract, Round round, CancellationToken ct)
    {
        if (_verifiedContract == contract.Address)
        {
            return true;
        }

        var code = await _rpc.GetCodeAsync(contract.Address, ct);
        if (string.IsNullOrEmpty(code) || code.RemoveHexPrefix().Length == 0)
        {
            LogContractWithoutCode(_logger, contract.Address);
            _health.Problem($"no contract code at {contract.Address}");
            round.Waiting = "no contract code";
            return false;
        }

        _verifiedContract = contract.Address;
        return true;
    }

    // ---- in-flight transactions ----

    private async Task TrackAsync(VoucherLedgerContract? contract, Round round, CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var inFlight = await db.ChainLedgerTransactions
            .Where(t => t.Ledger == Ledger && (t.Status == ChainTransactionStatus.Signed || t.Status == ChainTransactionStatus.Broadcast))
            .OrderBy(t => t.Nonce)
            .ToListAsync(ct);
        if (inFlight.Count == 0)
        {
            return;
        }

        // Asked before the receipts: a nonce below this count was mined before any receipt below was asked for.
        var minedCount = await _rpc.GetTransactionCountAsync(_signer.Address, false, ct);
        foreach (var tx in inFlight)
        {
            var receipt = await _rpc.GetTransactionReceiptAsync(tx.Hash, ct);
            if (receipt is not null)
            {
                await ApplyReceiptAsync(db, tx, receipt, contract, round, ct);
            }
            else if (tx.Nonce < minedCount)
            {
                LogDropped(_logger, tx.Hash, tx.Nonce);
                await db.InTransactionAsync(
                    async c =>
                    {
                        tx.Status = ChainTransactionStatus.Dropped;
                        tx.LastError = "dropped: another transaction used its nonce";
                        tx.UpdatedAt = _time.GetUtcNow();
                        await RequeueAsync(db, tx.Id, [ChainEventStatus.Sent], "the transaction was dropped (its nonce was used by another one)", round, c);
                    },
                    ct);
            }
            else if (tx.Status == ChainTransactionStatus.Signed || _time.GetUtcNow() - (tx.BroadcastAt ?? tx.CreatedAt) >= _options.RebroadcastAfter)
            {
                await BroadcastAsync(db, tx, ct);
            }
        }
    }

    private async Task ApplyReceiptAsync(OpenMavnDbContext db, ChainLedgerTransaction tx, TransactionReceipt receipt, VoucherLedgerContract? contract, Round round, CancellationToken ct)
    {
        IReadOnlyList<RecordResult>? results = null;
        var succeeded = receipt.Status?.Value == BigInteger.One;
        if (succeeded && tx.Kind == ChainTransactionKind.Batch)
        {
            if (contract is null)
            {
                return;
            }

            results = await contract.ReadResultsAsync(receipt, (ulong)tx.Nonce, ct);
        }

        var final = _options.Confirmations == 0;
        await db.InTransactionAsync(
            async c =>
            {
                tx.BlockNumber = (long)receipt.BlockNumber.Value;
                tx.BlockHash = receipt.BlockHash;
                tx.GasUsed = (long?)receipt.GasUsed?.Value;
                tx.EffectiveGasPrice = receipt.EffectiveGasPrice?.Value.ToString(CultureInfo.InvariantCulture);
                tx.UpdatedAt = _time.GetUtcNow();
                if (!succeeded)
                {
                    tx.Status = ChainTransactionStatus.Reverted;
                    tx.LastError = "reverted";
                    LogReverted(_logger, tx.Hash, tx.BlockNumber.Value);
                    await RequeueAsync(db, tx.Id, [ChainEventStatus.Sent], "the transaction reverted", round, c);
                    return;
                }

                tx.Status = final ? ChainTransactionStatus.Confirmed : ChainTransactionStatus.Mined;
                if (tx.Kind == ChainTransactionKind.Deploy)
                {
                    tx.ContractAddress = receipt.ContractAddress?.ToLowerInvariant();
                    LogDeployed(_logger, tx.ContractAddress ?? "", tx.BlockNumber.Value);
                    return;
                }

                var events = BatchOrder(await db.ChainLedgerEvents.Where(e => e.TransactionId == tx.Id && e.Status == ChainEventStatus.Sent).ToListAsync(c));
                if (results is null || results.Count != events.Count)
                {
                    LogResultsMissing(_logger, tx.Hash, events.Count, results?.Count ?? -1);
                    await RequeueAsync(db, tx.Id, [ChainEventStatus.Sent], "the transaction's results could not be read", round, c);
                    return;
                }

                var now = _time.GetUtcNow();
                for (var i = 0; i < events.Count; i++)
                {
                    var e = events[i];
                    var code = results[i];
                    e.ResultCode = (int)code;
                    e.UpdatedAt = now;
                    switch (code)
                    {
                        case RecordResult.Applied or RecordResult.Duplicate:
                            e.Status = final ? ChainEventStatus.Confirmed : ChainEventStatus.Applied;
                            round.Applied++;
                            if (final)
                            {
                                round.Confirmed++;
                            }

                            break;
                        case RecordResult.OutOfOrder:
                            Requeue(e, "OutOfOrder", round);
                            break;
                        default:
                            e.Status = ChainEventStatus.Failed;
                            e.LastError = code.ToString();
                            round.Failed++;
                            LogRecordRefused(_logger, e.EventId, code.ToString());
                            break;
                    }
                }
            },
            ct);
    }

    private async Task BroadcastAsync(OpenMavnDbContext db, ChainLedgerTransaction tx, CancellationToken ct)
    {
        string? refusal = null;
        try
        {
            await _rpc.SendRawTransactionAsync(tx.RawTransaction, ct);
        }
        catch (RpcResponseException ex) when (IsAlreadyKnown(ex.Message))
        {
            // The node has it (or mined it): the same bytes, the same hash.
        }
        catch (RpcResponseException ex)
        {
            refusal = ex.Message;
            LogBroadcastRefused(_logger, tx.Hash, tx.Nonce, ex.Message);
        }

        await db.InTransactionAsync(
            _ =>
            {
                var now = _time.GetUtcNow();
                tx.BroadcastAttempts++;
                tx.BroadcastAt = now;
                tx.UpdatedAt = now;
                tx.LastError = refusal is null ? tx.LastError : Truncate(refusal);
                if (refusal is null && tx.Status == ChainTransactionStatus.Signed)
                {
                    tx.Status = ChainTransactionStatus.Broadcast;
                }

                return Task.CompletedTask;
            },
            ct);
    }

    private static bool IsAlreadyKnown(string message) =>
        message.Contains("already known", StringComparison.OrdinalIgnoreCase)
        || message.Contains("known transaction", StringComparison.OrdinalIgnoreCase)
        || message.Contains("already imported", StringComparison.OrdinalIgnoreCase)
        || message.Contains("already exists", StringComparison.OrdinalIgnoreCase);

    // ---- finality ----

    private async Task FinalizeAsync(Round round, CancellationToken ct)
    {
        if (_options.Confirmations == 0)
        {
            return;
        }

        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var mined = await db.ChainLedgerTransactions
            .Where(t => t.Ledger == Ledger && t.Status == ChainTransactionStatus.Mined)
            .OrderBy(t => t.BlockNumber)
            .ToListAsync(ct);
        if (mined.Count == 0)
        {
            return;
        }

        var head = await _rpc.GetBlockNumberAsync(ct);
        foreach (var tx in mined)
        {
            if (head - tx.BlockNumber!.Value + 1 < _options.Confirmations)
            {
                break;
            }

            var block = await _rpc.GetBlockAsync(tx.BlockNumber.Value, ct);
            var kept = block is not null && string.Equals(block.Hash, tx.BlockHash, StringComparison.OrdinalIgnoreCase);
            await db.InTransactionAsync(
                async c =>
                {
                    tx.UpdatedAt = _time.GetUtcNow();
                    if (kept)
                    {
                        tx.Status = ChainTransactionStatus.Confirmed;
                        round.Confirmed += await db.ChainLedgerEvents
                            .Where(e => e.TransactionId == tx.Id && e.Status == ChainEventStatus.Applied)
                            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, ChainEventStatus.Confirmed).SetProperty(e => e.UpdatedAt, tx.UpdatedAt), c);
                        return;
                    }

                    // The block was replaced (reorganisation): the transaction is pending again and its results void.
                    LogReorged(_logger, tx.Hash, tx.BlockNumber.Value);
                    tx.Status = ChainTransactionStatus.Broadcast;
                    tx.BlockNumber = null;
                    tx.BlockHash = null;
                    tx.BroadcastAt = tx.UpdatedAt - _options.RebroadcastAfter;
                    await db.ChainLedgerEvents
                        .Where(e => e.TransactionId == tx.Id && (e.Status == ChainEventStatus.Applied || e.Status == ChainEventStatus.Failed))
                        .ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, ChainEventStatus.Sent).SetProperty(e => e.ResultCode, (int?)null).SetProperty(e => e.UpdatedAt, tx.UpdatedAt), c);
                },
                ct);
        }
    }

    // ---- sending ----

    private async Task SendAsync(VoucherLedgerContract contract, Round round, CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        if (!await db.ChainLedgerEvents.AnyAsync(e => e.Ledger == Ledger && e.Status == ChainEventStatus.Queued, ct))
        {
            return;
        }

        var inFlight = await db.ChainLedgerTransactions.CountAsync(t => t.Ledger == Ledger && (t.Status == ChainTransactionStatus.Signed || t.Status == ChainTransactionStatus.Broadcast), ct);
        if (inFlight >= _options.MaxInFlightTransactions)
        {
            return;
        }

        var latest = await _rpc.GetBlockAsync(null, ct) ?? throw new RpcClientUnknownException("The node has no latest block.");
        var fees = FeePolicy.ForSending(latest.BaseFeePerGas, await _rpc.GetGasPriceAsync(ct), _options);
        if (fees is null)
        {
            LogFeeAboveCap(_logger, latest.BaseFeePerGas.ToString(CultureInfo.InvariantCulture), _options.MaxFeePerGas);
            _health.Problem("the base fee is above OpenMavn:Ledger:Ethereum:MaxFeePerGas");
            round.Waiting = "base fee above MaxFeePerGas";
            return;
        }

        var pendingNonce = await _rpc.GetTransactionCountAsync(_signer.Address, true, ct);
        while (inFlight < _options.MaxInFlightTransactions)
        {
            db.ChangeTracker.Clear();
            var events = await db.ChainLedgerEvents.AsNoTracking()
                .Where(e => e.Ledger == Ledger && e.Status == ChainEventStatus.Queued)
                .OrderBy(e => e.Id)
                .Take(_options.BatchSize)
                .ToListAsync(ct);
            if (events.Count == 0)
            {
                return;
            }

            var ordered = BatchOrder(events);
            var batch = await EncodeAsync(db, ordered, ct);
            var nonce = Math.Max(pendingNonce, await NextNonceAsync(db, ct));
            var data = contract.CreateRecordTransaction(_signer.Address, (ulong)nonce, batch).Data;
            var estimate = await _rpc.EstimateGasAsync(_signer.Address, contract.Address, data, ct);
            var floor = GasFloorPerTransaction + ordered.Sum(e => e.Kind == LedgerEventKind.Issued ? GasFloorPerIssue : GasFloorPerRecord);
            var gasLimit = Math.Min(Math.Max(estimate * 5 / 4, floor), latest.GasLimit);
            var signed = _signer.Sign(nonce, fees.Value.Priority, fees.Value.MaxFee, gasLimit, contract.Address, data.HexToByteArray());
            var row = NewTransaction(ChainTransactionKind.Batch, nonce, signed, fees.Value, gasLimit);
            var ids = events.Select(e => e.Id).ToList();
            await db.InTransactionAsync(
                async c =>
                {
                    db.ChainLedgerTransactions.Add(row);
                    await db.SaveChangesAsync(c);
                    var marked = await db.ChainLedgerEvents
                        .Where(e => ids.Contains(e.Id) && e.Status == ChainEventStatus.Queued)
                        .ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, ChainEventStatus.Sent).SetProperty(e => e.TransactionId, row.Id).SetProperty(e => e.Attempts, e => e.Attempts + 1).SetProperty(e => e.UpdatedAt, row.CreatedAt), c);
                    if (marked != ids.Count)
                    {
                        throw new InvalidOperationException($"Only {marked} of {ids.Count} queued events could be marked sent; another sender is at work.");
                    }
                },
                ct);
            LogSending(_logger, signed.Hash, nonce, events.Count, gasLimit);
            round.Sent += events.Count;
            inFlight++;
            pendingNonce = nonce + 1;
            await BroadcastAsync(db, row, ct);
        }
    }

    private static async Task<byte[]> EncodeAsync(OpenMavnDbContext db, IReadOnlyList<ChainLedgerEvent> ordered, CancellationToken ct)
    {
        var voucherIds = ordered.Select(e => e.VoucherId).Distinct().ToList();
        var campaignIds = ordered.Select(e => e.CampaignId).Distinct().ToList();
        var keys = await db.ChainLedgerVouchers.AsNoTracking().Where(v => v.Ledger == Ledger && voucherIds.Contains(v.VoucherId)).ToDictionaryAsync(v => v.VoucherId, ct);
        var campaigns = await db.ChainLedgerCampaigns.AsNoTracking().Where(c => c.Ledger == Ledger && campaignIds.Contains(c.CampaignId)).ToDictionaryAsync(c => c.CampaignId, ct);
        var groups = new List<BatchGroup>();
        foreach (var group in ordered.GroupBy(e => e.CampaignId))
        {
            var campaign = campaigns[group.Key];
            var records = group.Select(row =>
            {
                var e = EthereumVoucherLedger.ReadPayload(row);
                var serial = (uint)keys[row.VoucherId].Serial;
                var seq = checked((ushort)row.VoucherSeq);
                return row.Kind switch
                {
                    LedgerEventKind.Issued => new BatchRecord(LedgerOp.Issue, serial, seq, e.VoucherId, Holder: Account(e.HolderId)),
                    LedgerEventKind.Transferred => new BatchRecord(LedgerOp.Transfer, serial, seq, From: Account(e.PreviousHolderId), To: Account(e.HolderId)),
                    LedgerEventKind.Redeemed => new BatchRecord(LedgerOp.Redeem, serial, seq, Amount: (uint)e.Amount),
                    LedgerEventKind.RedemptionReversed => new BatchRecord(LedgerOp.Reverse, serial, seq, Amount: (uint)e.Amount),
                    LedgerEventKind.Expired => new BatchRecord(LedgerOp.Expire, serial, seq),
                    LedgerEventKind.Refunded => new BatchRecord(LedgerOp.Refund, serial, seq),
                    _ => throw new InvalidOperationException($"Unknown event kind {row.Kind}."),
                };
            }).ToList();
            groups.Add(new BatchGroup(group.Key, (uint)Math.Max(0, campaign.Supply), (uint)Math.Clamp(campaign.FaceValue, 0, uint.MaxValue), records));
        }

        return BatchCodec.Encode(groups);
    }

    private static ulong Account(Guid? customerId) => customerId is { } id ? CustodialAccount.For(id) : 0;

    /// <summary>The order of events in a batch: grouped by campaign (in order of first appearance), queue order inside a group.</summary>
    internal static List<ChainLedgerEvent> BatchOrder(IEnumerable<ChainLedgerEvent> events) =>
        events.OrderBy(e => e.Id).GroupBy(e => e.CampaignId).SelectMany(g => g).ToList();

    private async Task<long> NextNonceAsync(OpenMavnDbContext db, CancellationToken ct)
    {
        var journal = await db.ChainLedgerTransactions.Where(t => t.Ledger == Ledger && t.Account == _signer.Address).MaxAsync(t => (long?)t.Nonce, ct);
        var chain = await _rpc.GetTransactionCountAsync(_signer.Address, true, ct);
        return Math.Max(chain, (journal ?? -1) + 1);
    }

    private ChainLedgerTransaction NewTransaction(ChainTransactionKind kind, long nonce, SignedTransaction signed, (BigInteger MaxFee, BigInteger Priority) fees, long gasLimit)
    {
        var now = _time.GetUtcNow();
        return new ChainLedgerTransaction
        {
            Ledger = Ledger,
            Account = _signer.Address,
            Nonce = nonce,
            Kind = kind,
            Hash = signed.Hash,
            RawTransaction = signed.Raw,
            MaxFeePerGas = fees.MaxFee.ToString(CultureInfo.InvariantCulture),
            MaxPriorityFeePerGas = fees.Priority.ToString(CultureInfo.InvariantCulture),
            GasLimit = gasLimit,
            Status = ChainTransactionStatus.Signed,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    private async Task RequeueAsync(OpenMavnDbContext db, long transactionId, ChainEventStatus[] from, string reason, Round round, CancellationToken ct)
    {
        var events = await db.ChainLedgerEvents.Where(e => e.TransactionId == transactionId && from.Contains(e.Status)).ToListAsync(ct);
        foreach (var e in events)
        {
            Requeue(e, reason, round);
        }
    }

    private void Requeue(ChainLedgerEvent e, string reason, Round round)
    {
        e.UpdatedAt = _time.GetUtcNow();
        if (e.Attempts >= _options.MaxAttempts)
        {
            e.Status = ChainEventStatus.Failed;
            e.LastError = Truncate($"{reason}; gave up after {e.Attempts} attempts");
            round.Failed++;
            LogGaveUp(_logger, e.EventId, e.Attempts, reason);
            return;
        }

        e.Status = ChainEventStatus.Queued;
        e.LastError = Truncate(reason);
        round.Requeued++;
    }

    /// <summary>Keeps an error within the 2,000 characters its column holds.</summary>
    internal static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000];

    private sealed class Round
    {
        public int Sent { get; set; }

        public int Applied { get; set; }

        public int Confirmed { get; set; }

        public int Requeued { get; set; }

        public int Failed { get; set; }

        public string? Waiting { get; set; }

        public EthereumWorkerRound Result(bool leader, bool reachable) => new(leader, reachable, Sent, Applied, Confirmed, Requeued, Failed, Waiting);
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Ethereum ledger: the node is unreachable ({ErrorType}: {Error}); the queue waits and the next round retries")]
    private static partial void LogUnreachable(ILogger logger, string errorType, string error);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Error, Message = "Ethereum ledger: the node reports chain id {Actual}, but OpenMavn:Ledger:Ethereum:ChainId is {Expected}; nothing is sent")]
    private static partial void LogWrongChain(ILogger logger, long actual, long expected);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Warning, Message = "Ethereum ledger: the node refused a request ({Error}); the next round retries")]
    private static partial void LogNodeRefused(ILogger logger, string error);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Error, Message = "Ethereum ledger: no contract address (OpenMavn:Ledger:Ethereum:ContractAddress) and not in Development; nothing is sent")]
    private static partial void LogNoContract(ILogger logger);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Warning, Message = "Ethereum ledger: the base fee {BaseFee} wei is above OpenMavn:Ledger:Ethereum:MaxFeePerGas {MaxFeePerGas} wei; waiting for it to fall")]
    private static partial void LogFeeAboveCap(ILogger logger, string baseFee, long maxFeePerGas);

    [LoggerMessage(EventId = 9106, Level = LogLevel.Information, Message = "Ethereum ledger: deploying the contract in {Hash} (nonce {Nonce})")]
    private static partial void LogDeploying(ILogger logger, string hash, long nonce);

    [LoggerMessage(EventId = 9107, Level = LogLevel.Information, Message = "Ethereum ledger: contract deployed at {Address} in block {Block}")]
    private static partial void LogDeployed(ILogger logger, string address, long block);

    [LoggerMessage(EventId = 9108, Level = LogLevel.Error, Message = "Ethereum ledger: there is no contract code at {Address}; nothing is sent (wrong address or a different chain)")]
    private static partial void LogContractWithoutCode(ILogger logger, string address);

    [LoggerMessage(EventId = 9109, Level = LogLevel.Warning, Message = "Ethereum ledger: transaction {Hash} (nonce {Nonce}) was dropped; its events are queued again")]
    private static partial void LogDropped(ILogger logger, string hash, long nonce);

    [LoggerMessage(EventId = 9110, Level = LogLevel.Warning, Message = "Ethereum ledger: transaction {Hash} reverted in block {Block}; its events are queued again")]
    private static partial void LogReverted(ILogger logger, string hash, long block);

    [LoggerMessage(EventId = 9111, Level = LogLevel.Error, Message = "Ethereum ledger: transaction {Hash} carried {Events} events but {Results} results were read; its events are queued again")]
    private static partial void LogResultsMissing(ILogger logger, string hash, int events, int results);

    [LoggerMessage(EventId = 9112, Level = LogLevel.Warning, Message = "Ethereum ledger: the chain refused event {EventId} for good: {Result}")]
    private static partial void LogRecordRefused(ILogger logger, Guid eventId, string result);

    [LoggerMessage(EventId = 9113, Level = LogLevel.Warning, Message = "Ethereum ledger: the node refused transaction {Hash} (nonce {Nonce}): {Error}")]
    private static partial void LogBroadcastRefused(ILogger logger, string hash, long nonce, string error);

    [LoggerMessage(EventId = 9114, Level = LogLevel.Warning, Message = "Ethereum ledger: block {Block} of transaction {Hash} was replaced (reorganisation); following it again")]
    private static partial void LogReorged(ILogger logger, string hash, long block);

    [LoggerMessage(EventId = 9115, Level = LogLevel.Information, Message = "Ethereum ledger: sent {Hash} (nonce {Nonce}) with {Events} events, gas limit {GasLimit}")]
    private static partial void LogSending(ILogger logger, string hash, long nonce, int events, long gasLimit);

    [LoggerMessage(EventId = 9116, Level = LogLevel.Error, Message = "Ethereum ledger: event {EventId} failed after {Attempts} attempts ({Reason})")]
    private static partial void LogGaveUp(ILogger logger, Guid eventId, int attempts, string reason);
}
