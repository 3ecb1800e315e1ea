using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Ledger;

/// <summary>The result of re-verifying the database ledger's hash chain.</summary>
/// <param name="IsIntact">True when every record's hash matches its content and predecessor.</param>
/// <param name="Records">Records checked.</param>
/// <param name="FirstBrokenSequence">The first record that does not verify, if any.</param>
/// <param name="HeadHash">The last record's hash (publish it to let anyone check the history later).</param>
public sealed record LedgerVerification(bool IsIntact, long Records, long? FirstBrokenSequence, string HeadHash);

/// <summary>
/// The built-in ledger: an append-only chain of voucher events in the OpenMavn database, each record holding
/// SHA-256(previous hash ‖ canonical event). Anyone with a copy can recompute the chain end to end
/// (<see cref="VerifyAsync"/>); changing or removing any past record breaks every hash after it.
/// </summary>
/// <remarks>
/// As an <see cref="IVoucherLedgerReader"/> it replays its own records (never the voucher tables): a voucher's holder
/// and balance are those of its last record, its status follows the last event's kind, and a campaign's counts come
/// from its Issued and Refunded records. As an <see cref="ILedgerFeeEstimator"/> it quotes zero: writing a record costs
/// no fee.
/// </remarks>
public sealed class DatabaseVoucherLedger(IServiceScopeFactory scopes, TimeProvider time) : IVoucherLedger, IVoucherLedgerReader, ILedgerFeeEstimator
{
    /// <summary>The ledger name.</summary>
    public const string LedgerName = "database";

    /// <summary>The hash before the first record.</summary>
    public static readonly string GenesisHash = new('0', 64);

    /// <inheritdoc />
    public string Name => LedgerName;

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            try
            {
                return await db.InTransactionAsync(ct => AppendAsync(db, events, ct), cancellationToken);
            }
            catch (DbUpdateException) when (attempt < 10)
            {
                // Another host appended the same sequence number first: read the new head and try again.
            }
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var records = await db.LedgerRecords.AsNoTracking().Where(r => eventIds.Contains(r.EventId)).ToListAsync(cancellationToken);
        return eventIds.Select(id => records.FirstOrDefault(r => r.EventId == id) is { } r
            ? new LedgerWriteResult(id, LedgerReceiptStatus.Confirmed, r.Hash, r.Sequence)
            : new LedgerWriteResult(id, LedgerReceiptStatus.Pending, null, null)).ToList();
    }

    /// <inheritdoc />
    public string HolderOf(Guid customerId) => customerId.ToString("N");

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerVoucherState>> ReadVouchersAsync(IReadOnlyList<LedgerVoucherRef> vouchers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vouchers);
        var ids = vouchers.Select(v => v.VoucherId).Distinct().ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var records = await db.LedgerRecords.AsNoTracking().Where(r => ids.Contains(r.VoucherId))
            .OrderBy(r => r.Sequence).Select(r => new { r.VoucherId, r.Canonical })
            .ToListAsync(cancellationToken);
        var byVoucher = records.GroupBy(r => r.VoucherId).ToDictionary(g => g.Key, g => g.Select(r => CanonicalEvent.Parse(r.Canonical)).ToList());
        return vouchers.Select(v =>
        {
            if (!byVoucher.TryGetValue(v.VoucherId, out var events))
            {
                return new LedgerVoucherState(v.VoucherId, false, null, 0, LedgerVoucherStatus.Unknown, 0);
            }

            var last = events[^1];
            return new LedgerVoucherState(v.VoucherId, true, last.Holder, last.BalanceAfter, StatusAfter(last), events.Count);
        }).ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LedgerCampaignState>> ReadCampaignsAsync(IReadOnlyList<Guid> campaignIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(campaignIds);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var states = new List<LedgerCampaignState>(campaignIds.Count);
        foreach (var campaignId in campaignIds)
        {
            // Records carry the campaign only inside the canonical text: "v1|event|kind|voucher|campaign|…".
            var campaignField = $"|{campaignId:N}|";
            var canonicals = await db.LedgerRecords.AsNoTracking()
                .Where(r => r.Canonical.Contains(campaignField))
                .OrderBy(r => r.Sequence).Select(r => r.Canonical)
                .ToListAsync(cancellationToken);
            var events = canonicals.Select(CanonicalEvent.Parse).Where(e => e.CampaignId == campaignId).ToList();
            var issued = events.Count(e => e.Kind == LedgerEventKind.Issued);
            var refunded = events.Count(e => e.Kind == LedgerEventKind.Refunded);
            states.Add(new LedgerCampaignState(campaignId, events.Count > 0, issued, issued - refunded, events.Count > 0 ? events[^1].CampaignSupply : 0));
        }

        return states;
    }

    /// <inheritdoc />
    public Task<LedgerFeeQuote> EstimateAsync(LedgerFeeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(new LedgerFeeQuote(LedgerName, request.Vouchers, 0, 0, "0", "0", "0", null, 0m, 0m, time.GetUtcNow()));
    }

    /// <summary>Recomputes the whole chain.</summary>
    public async Task<LedgerVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var previous = GenesisHash;
        long count = 0;
        long expectedSequence = 1;
        await foreach (var record in db.LedgerRecords.AsNoTracking().OrderBy(r => r.Sequence).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            count++;
            if (record.Sequence != expectedSequence || record.PreviousHash != previous || record.Hash != Hash(previous, record.Canonical))
            {
                return new LedgerVerification(false, count, record.Sequence, previous);
            }

            previous = record.Hash;
            expectedSequence++;
        }

        return new LedgerVerification(true, count, null, previous);
    }

    /// <summary>The canonical text of an event: fixed field order, invariant formatting, UTC ticks.</summary>
    public static string Canonicalize(LedgerEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return string.Join('|',
            "v1",
            e.EventId.ToString("N"),
            e.Kind.ToString(),
            e.VoucherId.ToString("N"),
            e.CampaignId.ToString("N"),
            e.MerchantId.ToString("N"),
            e.CampaignSupply.ToString(CultureInfo.InvariantCulture),
            e.HolderId?.ToString("N") ?? "",
            e.PreviousHolderId?.ToString("N") ?? "",
            e.Amount.ToString(CultureInfo.InvariantCulture),
            e.BalanceAfter.ToString(CultureInfo.InvariantCulture),
            e.Currency,
            e.OccurredAt.UtcTicks.ToString(CultureInfo.InvariantCulture));
    }

    private static LedgerVoucherStatus StatusAfter(CanonicalEvent e) => e.Kind switch
    {
        LedgerEventKind.Expired => LedgerVoucherStatus.Expired,
        LedgerEventKind.Refunded => LedgerVoucherStatus.Refunded,
        LedgerEventKind.Redeemed when e.BalanceAfter == 0 => LedgerVoucherStatus.Redeemed,
        _ => LedgerVoucherStatus.Active,
    };

    /// <summary>SHA-256 over the previous hash, a separator and the canonical event, as lower-case hex.</summary>
    public static string Hash(string previousHash, string canonical) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(previousHash + "\n" + canonical)));

    private async Task<IReadOnlyList<LedgerWriteResult>> AppendAsync(OpenMavnDbContext db, IReadOnlyList<LedgerEvent> events, CancellationToken ct)
    {
        var ids = events.Select(e => e.EventId).ToList();
        var existing = await db.LedgerRecords.AsNoTracking().Where(r => ids.Contains(r.EventId)).ToDictionaryAsync(r => r.EventId, ct);
        var head = await db.LedgerRecords.AsNoTracking().OrderByDescending(r => r.Sequence).Select(r => new { r.Sequence, r.Hash }).FirstOrDefaultAsync(ct);
        var sequence = head?.Sequence ?? 0;
        var previous = head?.Hash ?? GenesisHash;
        var results = new List<LedgerWriteResult>(events.Count);
        foreach (var e in events)
        {
            if (existing.TryGetValue(e.EventId, out var seen))
            {
                results.Add(new LedgerWriteResult(e.EventId, LedgerReceiptStatus.Confirmed, seen.Hash, seen.Sequence));
                continue;
            }

            var canonical = Canonicalize(e);
            var record = new LedgerRecord
            {
                Sequence = ++sequence,
                EventId = e.EventId,
                Canonical = canonical,
                VoucherId = e.VoucherId,
                PreviousHash = previous,
                Hash = Hash(previous, canonical),
                RecordedAt = time.GetUtcNow(),
            };
            db.LedgerRecords.Add(record);
            existing[e.EventId] = record;
            previous = record.Hash;
            results.Add(new LedgerWriteResult(e.EventId, LedgerReceiptStatus.Confirmed, record.Hash, record.Sequence));
        }

        return results;
    }
}

/// <summary>The fields of a record's canonical text that a read-back needs (see <see cref="DatabaseVoucherLedger.Canonicalize"/>).</summary>
internal sealed record CanonicalEvent(LedgerEventKind Kind, Guid CampaignId, int CampaignSupply, string? Holder, long BalanceAfter)
{
    public static CanonicalEvent Parse(string canonical)
    {
        // v1|event|kind|voucher|campaign|merchant|supply|holder|previousHolder|amount|balanceAfter|currency|ticks
        var f = canonical.Split('|');
        if (f.Length != 13 || f[0] != "v1")
        {
            throw new FormatException($"Not a v1 ledger record: '{canonical}'.");
        }

        return new CanonicalEvent(
            Enum.Parse<LedgerEventKind>(f[2]),
            Guid.ParseExact(f[4], "N"),
            int.Parse(f[6], NumberStyles.Integer, CultureInfo.InvariantCulture),
            f[7].Length == 0 ? null : f[7],
            long.Parse(f[10], NumberStyles.Integer, CultureInfo.InvariantCulture));
    }
}
