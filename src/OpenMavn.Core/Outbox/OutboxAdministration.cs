using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Outbox;

/// <summary>An outbox message the dispatcher gave up on (a permanent failure or too many attempts).</summary>
/// <param name="Id">Message id.</param>
/// <param name="Type">Handler type (<c>payment.refund</c>, <c>notification</c>, …).</param>
/// <param name="Attempts">Delivery attempts made.</param>
/// <param name="LastError">The last error.</param>
/// <param name="CreatedAt">When the effect was written.</param>
/// <param name="FailedAt">When the dispatcher gave up.</param>
public sealed record FailedOutboxMessage(long Id, string Type, int Attempts, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset FailedAt);

/// <summary>Operators' view of the outbox: the messages that failed for good, and sending one again.</summary>
public sealed class OutboxAdministration(OpenMavnDbContext db, TimeProvider time)
{
    /// <summary>Failed messages, most recent first (operators only). The payload is not shown.</summary>
    public async Task<IReadOnlyList<FailedOutboxMessage>> ListFailedAsync(Actor actor, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        MerchantAccess.RequireAdmin(actor);
        return await db.OutboxMessages.AsNoTracking().Where(m => m.FailedAt != null && m.ProcessedAt == null)
            .OrderByDescending(m => m.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 1000))
            .Select(m => new FailedOutboxMessage(m.Id, m.Type, m.Attempts, m.LastError, m.CreatedAt, m.FailedAt!.Value))
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Puts a failed message back in the queue (operators only, once the cause is fixed): due now, attempts reset,
    /// the last error kept until the next attempt. A guarded update: only a failed, undelivered message is retried.
    /// </summary>
    public async Task RetryAsync(Actor actor, long messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        MerchantAccess.RequireAdmin(actor);
        var now = time.GetUtcNow();
        var rows = await db.OutboxMessages.Where(m => m.Id == messageId && m.FailedAt != null && m.ProcessedAt == null)
            .ExecuteUpdateAsync(
                s => s.SetProperty(m => m.FailedAt, (DateTimeOffset?)null).SetProperty(m => m.AvailableAt, now).SetProperty(m => m.Attempts, 0)
                    .SetProperty(m => m.LeaseToken, (Guid?)null).SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null),
                cancellationToken);
        if (rows == 0)
        {
            throw await db.OutboxMessages.AnyAsync(m => m.Id == messageId, cancellationToken)
                ? new ConflictException("outbox.not_failed", "This message has not failed; only a failed message can be retried.")
                : new NotFoundException("outbox.not_found", "No such outbox message.");
        }
    }
}
