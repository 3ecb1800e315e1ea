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
public sealed class DatabaseVoucherLedger(IServiceScopeFactory scopes, TimeProvider time) : IVoucherLedger
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
