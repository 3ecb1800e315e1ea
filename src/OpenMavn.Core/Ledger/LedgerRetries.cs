using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Ledger;

/// <summary>Operators send a voucher's failed ledger writes again (after fixing what made them fail).</summary>
public sealed class LedgerRetries(OpenMavnDbContext db, IVoucherLedger ledger, TimeProvider time)
{
    /// <summary>
    /// Queues the voucher's failed writes again and puts their receipts back to Pending; returns the event ids.
    /// Conflict when the ledger retries through the outbox instead, or when nothing of the voucher failed.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RetryVoucherAsync(Actor actor, Guid voucherId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        MerchantAccess.RequireAdmin(actor);
        if (!await db.Vouchers.AnyAsync(v => v.Id == voucherId, cancellationToken))
        {
            throw new NotFoundException("voucher.not_found", "No such voucher.");
        }

        if (ledger is not IVoucherLedgerRetry retry)
        {
            throw new ConflictException("ledger.retry_unsupported", $"The {ledger.Name} ledger has no queue of its own: its failed writes are outbox messages, retried from GET /api/admin/outbox/failed.");
        }

        var requeued = await retry.RetryFailedAsync(voucherId, cancellationToken);
        if (requeued.Count == 0)
        {
            throw new ConflictException("ledger.nothing_to_retry", "None of the voucher's ledger writes has failed.");
        }

        // The receipts of these events were final (Failed); they are pending again until the ledger answers.
        var now = time.GetUtcNow();
        await db.LedgerReceipts.Where(r => requeued.Contains(r.EventId) && r.Status == LedgerReceiptStatus.Failed)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, LedgerReceiptStatus.Pending).SetProperty(r => r.UpdatedAt, now), cancellationToken);
        return requeued;
    }
}
