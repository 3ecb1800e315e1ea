using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Nethereum.Hex.HexConvertors.Extensions;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Persistence;
using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum;

/// <summary>
/// Mirrors voucher events on an EVM chain. <see cref="RecordAsync"/> only queues them in the database (it never
/// talks to the chain, so a chain that is down delays the mirror, never a sale); the
/// <see cref="EthereumLedgerWorker"/> sends them in batches and follows them to finality. Also reads the chain back
/// (<see cref="IVoucherLedgerReader"/>) and quotes what mirroring costs (<see cref="ILedgerFeeEstimator"/>).
/// </summary>
public sealed class EthereumVoucherLedger(
    IServiceScopeFactory scopes,
    IEthereumRpc rpc,
    LedgerContractLocator contracts,
    IOptions<EthereumLedgerOptions> options,
    TimeProvider time) : IVoucherLedger, IVoucherLedgerReader, ILedgerFeeEstimator, IVoucherLedgerRetry
{
    /// <summary>The ledger name.</summary>
    public const string LedgerName = "ethereum";

    /// <summary>Gas one voucher's transfer adds to a batch of 200 when its storage slot is cold (measured on anvil; a test pins it within 10 %).</summary>
    public const long TransferGas = 6_700;

    /// <summary>Gas one voucher's redemption adds to a batch of 200 when its storage slot is cold (measured on anvil; a test pins it within 10 %).</summary>
    public const long RedeemGas = 6_550;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <inheritdoc cref="IVoucherLedger.Name" />
    public string Name => LedgerName;

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        cancellationToken.ThrowIfCancellationRequested();
        if (events.Count == 0)
        {
            return [];
        }

        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            try
            {
                return await db.InTransactionAsync(ct => EnqueueAsync(db, events, ct), cancellationToken);
            }
            catch (DbUpdateException) when (attempt < 10)
            {
                // Another host queued an event of the same voucher or campaign first: read again and retry.
            }
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Guid>> RetryFailedAsync(Guid voucherId, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        return await db.InTransactionAsync(
            async ct =>
            {
                var failed = await db.ChainLedgerEvents
                    .Where(e => e.Ledger == LedgerName && e.VoucherId == voucherId && e.Status == ChainEventStatus.Failed)
                    .OrderBy(e => e.Id).ToListAsync(ct);
                var now = time.GetUtcNow();
                foreach (var e in failed)
                {
                    // Queue order (the id) is kept, so the voucher's events go out in their order again.
                    e.Status = ChainEventStatus.Queued;
                    e.Attempts = 0;
                    e.TransactionId = null;
                    e.ResultCode = null;
                    e.LastError = EthereumLedgerWorker.Truncate("Retried by an operator after: " + e.LastError);
                    e.UpdatedAt = now;
                }

                await db.SaveChangesAsync(ct);
                return (IReadOnlyList<Guid>)failed.Select(e => e.EventId).ToList();
            },
            cancellationToken);
    }

    /// <summary>
    /// A stand-in voucher id for the quote's synthetic batch: derived from the campaign and position, so the same
    /// request quotes the same gas, with no zero byte, so calldata is priced as for real (random) ids at worst.
    /// </summary>
    private static Guid SyntheticVoucherId(Guid campaignId, int index)
    {
        Span<byte> bytes = stackalloc byte[16];
        campaignId.TryWriteBytes(bytes);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes[12..], index ^ 0x5A5A5A5A);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == 0)
            {
                bytes[i] = 0xA5;
            }
        }

        return new Guid(bytes);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventIds);
        cancellationToken.ThrowIfCancellationRequested();
        if (eventIds.Count == 0)
        {
            return [];
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var known = await ReceiptsAsync(db, eventIds, cancellationToken);
        return eventIds.Distinct().Select(id => known.TryGetValue(id, out var r) ? r : new LedgerWriteResult(id, LedgerReceiptStatus.Pending, null, null)).ToList();
    }

    /// <inheritdoc />
    public string HolderOf(Guid customerId) => "0x" + CustodialAccount.For(customerId).ToString("x16", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerVoucherState>> ReadVouchersAsync(IReadOnlyList<LedgerVoucherRef> vouchers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vouchers);
        if (vouchers.Count == 0)
        {
            return [];
        }

        var contract = await contracts.GetContractAsync(cancellationToken)
            ?? throw new InvalidOperationException("The ledger contract is not deployed yet.");
        Dictionary<Guid, ChainLedgerVoucher> keys;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            var ids = vouchers.Select(v => v.VoucherId).Distinct().ToList();
            keys = await db.ChainLedgerVouchers.AsNoTracking().Where(v => v.Ledger == LedgerName && ids.Contains(v.VoucherId)).ToDictionaryAsync(v => v.VoucherId, cancellationToken);
        }

        var states = new Dictionary<Guid, LedgerVoucherState>();
        foreach (var campaign in keys.Values.GroupBy(k => k.CampaignId))
        {
            // One view call per contiguous run of serials (reconciliation reads whole campaigns).
            var ordered = campaign.OrderBy(k => k.Serial).ToList();
            var start = 0;
            while (start < ordered.Count)
            {
                var end = start;
                while (end + 1 < ordered.Count && ordered[end + 1].Serial - ordered[start].Serial < 500 && ordered[end + 1].Serial == ordered[end].Serial + 1)
                {
                    end++;
                }

                var from = (uint)ordered[start].Serial;
                var records = await contract.GetVouchersAsync(campaign.Key, from, (uint)(end - start + 1), cancellationToken);
                for (var i = start; i <= end; i++)
                {
                    var record = records[i - start];
                    states[ordered[i].VoucherId] = record.Status == OnChainStatus.None
                        ? NotFound(ordered[i].VoucherId)
                        : new LedgerVoucherState(
                            ordered[i].VoucherId,
                            true,
                            record.Holder == 0 ? null : "0x" + record.Holder.ToString("x16", CultureInfo.InvariantCulture),
                            record.Balance,
                            (LedgerVoucherStatus)(int)record.Status,
                            record.Seq);
                }

                start = end + 1;
            }
        }

        return vouchers.Select(v => states.TryGetValue(v.VoucherId, out var s) ? s : NotFound(v.VoucherId)).ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerCampaignState>> ReadCampaignsAsync(IReadOnlyList<Guid> campaignIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(campaignIds);
        if (campaignIds.Count == 0)
        {
            return [];
        }

        var contract = await contracts.GetContractAsync(cancellationToken)
            ?? throw new InvalidOperationException("The ledger contract is not deployed yet.");
        var states = new List<LedgerCampaignState>(campaignIds.Count);
        foreach (var id in campaignIds)
        {
            var c = await contract.GetCampaignAsync(id, cancellationToken);
            states.Add(new LedgerCampaignState(id, c.FaceValue != 0, c.Issued, c.Outstanding, c.Supply));
        }

        return states;
    }

    /// <inheritdoc />
    public async Task<LedgerFeeQuote> EstimateAsync(LedgerFeeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = options.Value;
        var contract = await contracts.GetContractAsync(cancellationToken)
            ?? throw new InvalidOperationException("The ledger contract is not deployed yet.");
        var onChain = await contract.GetCampaignAsync(request.CampaignId, cancellationToken);
        var supply = (uint)Math.Clamp(request.Vouchers, 1, int.MaxValue);
        var face = (uint)Math.Clamp(request.FaceValue, 1, 1_000_000_000);
        var count = Math.Clamp(request.Vouchers, 1, settings.BatchSize);
        var holder = CustodialAccount.For(request.CampaignId);
        var records = Enumerable.Range(0, count)
            .Select(i => new BatchRecord(LedgerOp.Issue, onChain.Issued + (uint)i, 1, SyntheticVoucherId(request.CampaignId, i), holder))
            .ToList();
        var batch = BatchCodec.Encode([new BatchGroup(request.CampaignId, Math.Max(supply, onChain.Outstanding + (uint)count), onChain.FaceValue == 0 ? face : onChain.FaceValue, records)]);
        var call = contract.CreateRecordTransaction(contracts.OperatorAddress, 0, batch);
        var gas = await rpc.EstimateGasAsync(contracts.OperatorAddress, contract.Address, call.Data, cancellationToken);
        var gasPerIssue = (long)Math.Ceiling(gas / (double)count);
        var lifecycle = gasPerIssue + TransferGas + RedeemGas;
        var latest = await rpc.GetBlockAsync(null, cancellationToken) ?? throw new InvalidOperationException("The node has no latest block.");
        var price = FeePolicy.QuotePrice(latest.BaseFeePerGas, await rpc.GetGasPriceAsync(cancellationToken), settings);
        var issueTotal = price * gasPerIssue * request.Vouchers;
        var lifecycleTotal = price * lifecycle * request.Vouchers;
        return new LedgerFeeQuote(
            LedgerName,
            request.Vouchers,
            gasPerIssue,
            lifecycle,
            price.ToString(CultureInfo.InvariantCulture),
            issueTotal.ToString(CultureInfo.InvariantCulture),
            lifecycleTotal.ToString(CultureInfo.InvariantCulture),
            settings.NativeCurrency,
            ToEther(issueTotal),
            ToEther(lifecycleTotal),
            time.GetUtcNow());
    }

    /// <summary>Wei to ether (18 decimals), exact for any amount a quote can reach.</summary>
    internal static decimal ToEther(BigInteger wei)
    {
        var whole = BigInteger.DivRem(wei, BigInteger.Pow(10, 18), out var fraction);
        return (decimal)whole + ((decimal)fraction / 1_000_000_000_000_000_000m);
    }

    internal static async Task<Dictionary<Guid, LedgerWriteResult>> ReceiptsAsync(OpenMavnDbContext db, IReadOnlyCollection<Guid> eventIds, CancellationToken cancellationToken)
    {
        var rows = await (
                from e in db.ChainLedgerEvents.AsNoTracking()
                where e.Ledger == LedgerName && eventIds.Contains(e.EventId)
                join t in db.ChainLedgerTransactions.AsNoTracking() on e.TransactionId equals t.Id into ts
                from t in ts.DefaultIfEmpty()
                select new { e.EventId, e.Status, Hash = (string?)t.Hash, t.BlockNumber })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(r => r.EventId, r => r.Status switch
        {
            ChainEventStatus.Queued => new LedgerWriteResult(r.EventId, LedgerReceiptStatus.Pending, null, null),
            ChainEventStatus.Sent => new LedgerWriteResult(r.EventId, LedgerReceiptStatus.Pending, r.Hash, null),
            ChainEventStatus.Applied => new LedgerWriteResult(r.EventId, LedgerReceiptStatus.Pending, r.Hash, r.BlockNumber),
            ChainEventStatus.Confirmed => new LedgerWriteResult(r.EventId, LedgerReceiptStatus.Confirmed, r.Hash, r.BlockNumber),
            _ => new LedgerWriteResult(r.EventId, LedgerReceiptStatus.Failed, r.Hash, r.BlockNumber),
        });
    }

    private static LedgerVoucherState NotFound(Guid voucherId) => new(voucherId, false, null, 0, LedgerVoucherStatus.Unknown, 0);

    private async Task<IReadOnlyList<LedgerWriteResult>> EnqueueAsync(OpenMavnDbContext db, IReadOnlyList<LedgerEvent> events, CancellationToken ct)
    {
        var ids = events.Select(e => e.EventId).Distinct().ToList();
        var known = await ReceiptsAsync(db, ids, ct);
        var now = time.GetUtcNow();
        var nextSerial = new Dictionary<Guid, long>();
        var refusedSeq = new Dictionary<Guid, int>();
        var results = new List<LedgerWriteResult>(events.Count);
        foreach (var e in events)
        {
            if (known.TryGetValue(e.EventId, out var seen))
            {
                results.Add(seen);
                continue;
            }

            var key = await db.ChainLedgerVouchers.FindAsync([LedgerName, e.VoucherId], ct);
            string? refusal = null;
            if (e.Kind == LedgerEventKind.Issued && key is null)
            {
                if (!nextSerial.TryGetValue(e.CampaignId, out var serial))
                {
                    serial = await db.ChainLedgerVouchers.Where(v => v.Ledger == LedgerName && v.CampaignId == e.CampaignId).MaxAsync(v => (long?)v.Serial, ct) + 1 ?? 0;
                }

                nextSerial[e.CampaignId] = serial + 1;
                key = new ChainLedgerVoucher { Ledger = LedgerName, VoucherId = e.VoucherId, CampaignId = e.CampaignId, Serial = serial };
                db.ChainLedgerVouchers.Add(key);
                var campaign = await db.ChainLedgerCampaigns.FindAsync([LedgerName, e.CampaignId], ct);
                if (campaign is null)
                {
                    db.ChainLedgerCampaigns.Add(new ChainLedgerCampaign { Ledger = LedgerName, CampaignId = e.CampaignId, Supply = e.CampaignSupply, FaceValue = e.Amount });
                }
                else if (e.CampaignSupply > 0)
                {
                    campaign.Supply = e.CampaignSupply;
                }
            }
            else if (key is null)
            {
                refusal = "Unknown: the voucher was never issued on this ledger.";
            }

            if (e.Kind is LedgerEventKind.Redeemed or LedgerEventKind.RedemptionReversed && (e.Amount <= 0 || e.Amount > uint.MaxValue))
            {
                refusal ??= "BadAmount: the amount does not fit the ledger.";
            }

            int seq;
            if (refusal is null)
            {
                key!.LastSeq++;
                seq = key.LastSeq;
            }
            else
            {
                // Never sent, so it takes no position on chain: a negative one keeps (voucher, seq) unique.
                if (!refusedSeq.TryGetValue(e.VoucherId, out seq))
                {
                    seq = Math.Min(0, await db.ChainLedgerEvents.Where(r => r.Ledger == LedgerName && r.VoucherId == e.VoucherId).MinAsync(r => (int?)r.VoucherSeq, ct) ?? 0);
                }

                seq--;
                refusedSeq[e.VoucherId] = seq;
            }

            var row = new ChainLedgerEvent
            {
                Ledger = LedgerName,
                EventId = e.EventId,
                VoucherId = e.VoucherId,
                CampaignId = e.CampaignId,
                Kind = e.Kind,
                Payload = JsonSerializer.Serialize(e, Json),
                VoucherSeq = seq,
                Status = refusal is null ? ChainEventStatus.Queued : ChainEventStatus.Failed,
                LastError = refusal,
                QueuedAt = now,
                UpdatedAt = now,
            };
            db.ChainLedgerEvents.Add(row);
            var result = new LedgerWriteResult(e.EventId, refusal is null ? LedgerReceiptStatus.Pending : LedgerReceiptStatus.Failed, null, null);
            known[e.EventId] = result;
            results.Add(result);
        }

        return results;
    }

    internal static LedgerEvent ReadPayload(ChainLedgerEvent row) => JsonSerializer.Deserialize<LedgerEvent>(row.Payload, Json)!;
}
