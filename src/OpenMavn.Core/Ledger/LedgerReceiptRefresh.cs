using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Ledger;

/// <summary>
/// Asks the ledger for the current state of receipts that are still <see cref="LedgerReceiptStatus.Pending"/> (a chain
/// transaction sent but not final yet) and stores what changed: status, transaction reference, position.
/// </summary>
/// <remarks>
/// Each round takes the oldest pending receipts of the registered ledger (at most <see cref="BatchSize"/>). Every
/// change is a guarded update on a receipt that is still pending, so several hosts refreshing at once write the same
/// answer at most once each, and a receipt never goes back from Confirmed or Failed to Pending. A ledger that cannot be
/// reached leaves the receipts pending and is tried again next round: the mirror waits, nothing else does.
/// </remarks>
public sealed partial class LedgerReceiptRefresh(OpenMavnDbContext db, IVoucherLedger ledger, TimeProvider time, ILogger<LedgerReceiptRefresh> logger)
{
    /// <summary>Receipts asked about per round.</summary>
    public const int BatchSize = 500;

    /// <summary>Refreshes one batch of pending receipts; returns how many changed.</summary>
    public async Task<int> RefreshPendingAsync(CancellationToken cancellationToken = default)
    {
        var pending = await db.LedgerReceipts.AsNoTracking()
            .Where(r => r.Status == LedgerReceiptStatus.Pending && r.Ledger == ledger.Name)
            .OrderBy(r => r.UpdatedAt).ThenBy(r => r.EventId).Take(BatchSize)
            .Select(r => new { r.EventId, r.TransactionReference, r.Position })
            .ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return 0;
        }

        IReadOnlyList<LedgerWriteResult> answers;
        try
        {
            answers = await ledger.GetReceiptsAsync(pending.Select(p => p.EventId).ToList(), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Whatever the ledger throws (chain down, node timing out), the receipts wait for the next round.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogLedgerUnavailable(logger, ledger.Name, pending.Count, ex);
            return 0;
        }

        var known = pending.ToDictionary(p => p.EventId);
        var changes = answers
            .Where(a => known.TryGetValue(a.EventId, out var before)
                && (a.Status != LedgerReceiptStatus.Pending || a.TransactionReference != before.TransactionReference || a.Position != before.Position))
            .DistinctBy(a => a.EventId)
            .ToList();
        if (changes.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        var changed = await db.InTransactionAsync(
            async ct =>
            {
                var rows = 0;
                foreach (var change in changes)
                {
                    // Only a receipt still pending moves: a final answer is never overwritten, by this host or another.
                    rows += await db.LedgerReceipts
                        .Where(r => r.EventId == change.EventId && r.Status == LedgerReceiptStatus.Pending)
                        .ExecuteUpdateAsync(
                            s => s.SetProperty(r => r.Status, change.Status)
                                .SetProperty(r => r.TransactionReference, change.TransactionReference)
                                .SetProperty(r => r.Position, change.Position)
                                .SetProperty(r => r.UpdatedAt, now),
                            ct);
                }

                return rows;
            },
            cancellationToken);
        if (changed > 0)
        {
            LogRefreshed(logger, changed, ledger.Name);
        }

        return changed;
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Ledger {Ledger} could not be asked about {Count} pending receipts; they stay pending until the next round")]
    private static partial void LogLedgerUnavailable(ILogger logger, string ledger, int count, Exception exception);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "{Count} ledger receipts of {Ledger} updated")]
    private static partial void LogRefreshed(ILogger logger, int count, string ledger);
}
