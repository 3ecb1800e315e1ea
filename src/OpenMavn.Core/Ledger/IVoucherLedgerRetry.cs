namespace OpenMavn.Core.Ledger;

/// <summary>
/// Optional capability of an <see cref="IVoucherLedger"/> that keeps its own queue of writes (a chain ledger): an
/// operator sends a voucher's failed writes again once the cause is fixed. Ledgers whose writes fail as outbox
/// messages are retried from the outbox instead (<c>GET /api/admin/outbox/failed</c>).
/// </summary>
public interface IVoucherLedgerRetry
{
    /// <summary>Queues every failed write of the voucher again, in their original order; returns their event ids.</summary>
    Task<IReadOnlyList<Guid>> RetryFailedAsync(Guid voucherId, CancellationToken cancellationToken = default);
}
