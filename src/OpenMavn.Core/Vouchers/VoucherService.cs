using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Vouchers;

/// <summary>A voucher with its history and ledger receipts.</summary>
/// <param name="Voucher">The voucher (its code is shown only to its owner, the merchant and operators).</param>
/// <param name="Activity">History, oldest first.</param>
/// <param name="LedgerReceipts">Ledger receipts, oldest first.</param>
public sealed record VoucherDetail(Voucher Voucher, IReadOnlyList<VoucherActivity> Activity, IReadOnlyList<LedgerReceipt> LedgerReceipts);

/// <summary>Reading vouchers, refunding them, and expiring them.</summary>
public sealed partial class VoucherService(
    OpenMavnDbContext db,
    TimeProvider time,
    VoucherHistory history,
    OutboxWriter outbox,
    ILogger<VoucherService> logger)
{
    /// <summary>A customer's vouchers, newest first.</summary>
    public async Task<IReadOnlyList<Voucher>> ListMineAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        if (actor.Kind != ActorKind.Customer)
        {
            throw new ForbiddenException("voucher.customer_only", "Only customers have vouchers.");
        }

        return await db.Vouchers.AsNoTracking().Where(v => v.OwnerId == actor.Id).OrderByDescending(v => v.IssuedAt).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// A voucher with its history: for its owner, the issuing merchant's members, and operators. Anyone else is
    /// told it does not exist.
    /// </summary>
    public async Task<VoucherDetail> GetAsync(Actor actor, Guid voucherId, CancellationToken cancellationToken = default)
    {
        var voucher = await db.Vouchers.AsNoTracking().FirstOrDefaultAsync(v => v.Id == voucherId, cancellationToken)
            ?? throw new NotFoundException("voucher.not_found", "No such voucher.");
        switch (actor.Kind)
        {
            case ActorKind.Customer when voucher.OwnerId != actor.Id:
                throw new NotFoundException("voucher.not_found", "No such voucher.");
            case ActorKind.MerchantMember or ActorKind.ApiKey:
                try
                {
                    await MerchantAccess.RequireAsync(db, actor, voucher.MerchantId, MerchantRole.Staff, cancellationToken);
                }
                catch (ForbiddenException)
                {
                    throw new NotFoundException("voucher.not_found", "No such voucher.");
                }

                break;
        }

        var activity = await db.VoucherActivities.AsNoTracking().Where(a => a.VoucherId == voucherId).OrderBy(a => a.Id).ToListAsync(cancellationToken);
        // Oldest first by ledger position: UpdatedAt moves whenever a receipt is re-delivered or confirmed later.
        var receipts = await db.LedgerReceipts.AsNoTracking().Where(r => r.VoucherId == voucherId)
            .OrderBy(r => r.Position == null).ThenBy(r => r.Position).ThenBy(r => r.UpdatedAt).ToListAsync(cancellationToken);
        return new VoucherDetail(voucher, activity, receipts);
    }

    /// <summary>Finds a voucher by its code (operators only), e.g. for a customer on the phone.</summary>
    public async Task<VoucherDetail> FindByCodeAsync(Actor actor, string code, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        if (!VoucherCode.TryParse(code, out var canonical, out var error))
        {
            throw new ValidationFailedException("code", error);
        }

        var id = await db.Vouchers.Where(v => v.Code == canonical).Select(v => (Guid?)v.Id).FirstOrDefaultAsync(cancellationToken)
            ?? throw new NotFoundException("voucher.not_found", "No voucher has this code.");
        return await GetAsync(actor, id, cancellationToken);
    }

    /// <summary>
    /// Refunds an unredeemed voucher in full: the voucher is refunded at once, its stock returns to the campaign,
    /// the books are adjusted, and the money goes back through the payment provider via the outbox.
    /// Operators and the merchant's owners may refund.
    /// </summary>
    public async Task<Refund> RefundAsync(Actor actor, Guid voucherId, string reason, CancellationToken cancellationToken = default)
    {
        var merchantId = await db.Vouchers.Where(v => v.Id == voucherId).Select(v => (Guid?)v.MerchantId).FirstOrDefaultAsync(cancellationToken)
            ?? throw new NotFoundException("voucher.not_found", "No such voucher.");
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 500)
        {
            throw new ValidationFailedException("reason", "A reason of 1 to 500 characters is required.");
        }

        var refund = await db.InTransactionAsync(
            async ct =>
            {
                var voucher = await db.Vouchers.FirstAsync(v => v.Id == voucherId, ct);
                if (voucher.Status != VoucherStatus.Active)
                {
                    throw new ConflictException("voucher.not_active", $"The voucher is {voucher.Status}; only an active voucher can be refunded.");
                }

                if (voucher.Balance != voucher.FaceValue)
                {
                    throw new ConflictException("voucher.partly_redeemed", "Only an unredeemed voucher can be refunded in full.");
                }

                if (voucher.PendingGiftId is not null)
                {
                    throw new ConflictException("voucher.gift_pending", "Cancel the pending gift first.");
                }

                var now = time.GetUtcNow();
                var refund = new Refund
                {
                    Id = Guid.CreateVersion7(now),
                    OrderId = voucher.OrderId,
                    VoucherId = voucher.Id,
                    MerchantId = voucher.MerchantId,
                    Amount = voucher.PricePaid,
                    Currency = voucher.Currency,
                    Reason = reason.Trim(),
                    Status = voucher.PricePaid == 0 ? RefundStatus.Completed : RefundStatus.Requested,
                    CreatedAt = now,
                    ClosedAt = voucher.PricePaid == 0 ? now : null,
                };
                db.Refunds.Add(refund);
                var face = voucher.Balance;
                voucher.Balance = 0;
                voucher.Status = VoucherStatus.Refunded;
                history.Record(voucher, VoucherActivityKind.Refunded, actor, voucher.PricePaid, refund.Id);
                await db.Campaigns.Where(c => c.Id == voucher.CampaignId)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.Reserved, c => c.Reserved - 1), ct);
                MerchantBooks.Post(db, voucher.MerchantId, JournalEntryKind.Refund, refund.Id, voucher.Currency, now,
                    (LedgerAccount.VoucherLiability, face, 0),
                    (LedgerAccount.PaymentProviderFunds, 0, voucher.PricePaid),
                    (LedgerAccount.SalesDiscount, 0, face - voucher.PricePaid));
                await OfferInvalidation.WithdrawInvolvingAsync(db, voucher.Id, "The voucher was refunded.", now, ct);
                if (refund.Amount > 0)
                {
                    outbox.Refund(refund.Id, refund.OrderId);
                }

                return refund;
            },
            cancellationToken);
        LogRefunded(logger, voucherId, refund.Id);
        return refund;
    }

    /// <summary>Expires every active voucher past its validity, books the breakage, and withdraws its offers and gifts.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var due = await db.Vouchers.AsNoTracking()
            .Where(v => v.Status == VoucherStatus.Active && v.ExpiresAt <= now)
            .OrderBy(v => v.ExpiresAt).Take(500).Select(v => v.Id).ToListAsync(cancellationToken);
        var expired = 0;
        foreach (var id in due)
        {
            var done = await db.InTransactionAsync(
                async ct =>
                {
                    var voucher = await db.Vouchers.FirstAsync(v => v.Id == id, ct);
                    if (voucher.Status != VoucherStatus.Active || voucher.ExpiresAt > now)
                    {
                        return false;
                    }

                    var remaining = voucher.Balance;
                    voucher.Balance = 0;
                    voucher.Status = VoucherStatus.Expired;
                    if (voucher.PendingGiftId is { } giftId)
                    {
                        voucher.PendingGiftId = null;
                        await db.Gifts.Where(g => g.Id == giftId && (g.Status == GiftStatus.Scheduled || g.Status == GiftStatus.AwaitingClaim))
                            .ExecuteUpdateAsync(s => s.SetProperty(g => g.Status, GiftStatus.Cancelled).SetProperty(g => g.ClosedAt, now).SetProperty(g => g.Version, g => g.Version + 1), ct);
                    }

                    history.Record(voucher, VoucherActivityKind.Expired, Actor.System, remaining, null);
                    MerchantBooks.Post(db, voucher.MerchantId, JournalEntryKind.Breakage, voucher.Id, voucher.Currency, now,
                        (LedgerAccount.VoucherLiability, remaining, 0),
                        (LedgerAccount.BreakageRevenue, 0, remaining));
                    await OfferInvalidation.WithdrawInvolvingAsync(db, voucher.Id, "The voucher expired.", now, ct);
                    return true;
                },
                cancellationToken);
            if (done)
            {
                expired++;
            }
        }

        if (expired > 0)
        {
            LogExpired(logger, expired);
        }

        return expired;
    }

    /// <summary>Queues the customer's refund.completed message, if the customer still exists.</summary>
    internal static async Task NotifyRefundCompletedAsync(OpenMavnDbContext db, OutboxWriter outbox, Refund refund, Guid customerId, CancellationToken ct)
    {
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == customerId, ct);
        if (customer is null)
        {
            return;
        }

        var timeZone = await db.Merchants.Where(m => m.Id == refund.MerchantId).Select(m => m.TimeZoneId).FirstAsync(ct);
        outbox.Notify(new NotificationMessage(
            NotificationTypes.RefundCompleted,
            new NotificationRecipient(customer.Id, customer.Email, customer.DisplayName),
            customer.Language,
            new Dictionary<string, string>
            {
                ["amount"] = new Money(refund.Amount, refund.Currency).ToString(),
                ["reason"] = refund.Reason,
                ["refundId"] = refund.Id.ToString(),
                ["at"] = NotificationFormat.Instant(refund.CreatedAt),
                ["timeZone"] = timeZone,
            },
            $"refund:{refund.Id:N}"));
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Voucher {VoucherId} refunded (refund {RefundId})")]
    private static partial void LogRefunded(ILogger logger, Guid voucherId, Guid refundId);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "{Count} vouchers expired")]
    private static partial void LogExpired(ILogger logger, int count);
}
