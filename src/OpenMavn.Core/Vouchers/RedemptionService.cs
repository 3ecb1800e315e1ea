using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Vouchers;

/// <summary>What a redemption would do, shown to staff before they confirm.</summary>
/// <param name="VoucherId">Voucher.</param>
/// <param name="CampaignId">Campaign.</param>
/// <param name="CampaignName">Campaign name in the requested language.</param>
/// <param name="Kind">Single-use or stored-value.</param>
/// <param name="Amount">What would be redeemed.</param>
/// <param name="BalanceBefore">Balance now.</param>
/// <param name="BalanceAfter">Balance after.</param>
/// <param name="ExpiresAt">Validity end.</param>
public sealed record RedemptionPreview(Guid VoucherId, Guid CampaignId, string CampaignName, VoucherKind Kind, Money Amount, Money BalanceBefore, Money BalanceAfter, DateTimeOffset ExpiresAt);

/// <summary>A confirmed (or replayed) redemption.</summary>
/// <param name="RedemptionId">Redemption.</param>
/// <param name="VoucherId">Voucher.</param>
/// <param name="Amount">Redeemed.</param>
/// <param name="BalanceAfter">Left.</param>
/// <param name="At">When.</param>
/// <param name="Replayed">True when this answers a repeated idempotency key.</param>
public sealed record RedemptionReceipt(Guid RedemptionId, Guid VoucherId, Money Amount, Money BalanceAfter, DateTimeOffset At, bool Replayed);

/// <summary>
/// Redemption at the issuing merchant: preview, then confirm exactly once; reversible by the same merchant within
/// <see cref="OpenMavnOptions.RedemptionReversalWindow"/>.
/// </summary>
public sealed partial class RedemptionService(
    OpenMavnDbContext db,
    TimeProvider time,
    IOptions<OpenMavnOptions> options,
    VoucherHistory history,
    OutboxWriter outbox,
    ILogger<RedemptionService> logger)
{
    /// <summary>The one answer for a code that is malformed, unknown, or another merchant's.</summary>
    public const string NotRedeemableHere = "No voucher of this merchant has this code.";

    /// <summary>Shows what redeeming <paramref name="amount"/> (null = all) of the voucher would do. Changes nothing.</summary>
    public async Task<RedemptionPreview> PreviewAsync(Actor actor, Guid merchantId, string code, long? amount = null, string? language = null, CancellationToken cancellationToken = default)
    {
        await RequireRedeemerAsync(actor, merchantId, cancellationToken);
        var voucher = await FindAsync(merchantId, code, tracked: false, cancellationToken);
        var redeem = CheckRedeemable(voucher, amount);
        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == voucher.CampaignId, cancellationToken);
        return new RedemptionPreview(
            voucher.Id,
            voucher.CampaignId,
            campaign.Localize(language).Name,
            voucher.Kind,
            new Money(redeem, voucher.Currency),
            voucher.BalanceMoney,
            new Money(voucher.Balance - redeem, voucher.Currency),
            voucher.ExpiresAt);
    }

    /// <summary>
    /// Redeems exactly once. The same idempotency key (per merchant) returns the first receipt; with another
    /// voucher or amount it is refused.
    /// </summary>
    public async Task<RedemptionReceipt> RedeemAsync(Actor actor, Guid merchantId, string code, long? amount, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        await RequireRedeemerAsync(actor, merchantId, cancellationToken);
        if (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > 128 || idempotencyKey.Any(char.IsControl))
        {
            throw new ValidationFailedException("idempotencyKey", "An idempotency key of 1 to 128 printable characters is required.");
        }

        var replay = await ReplayAsync(merchantId, idempotencyKey, code, amount, cancellationToken);
        if (replay is not null)
        {
            return replay;
        }

        try
        {
            var receipt = await db.InTransactionAsync(
                async ct =>
                {
                    // A concurrent request with the same key may have committed since the check above: answer as its
                    // replay instead of judging the voucher it already redeemed ("already redeemed").
                    var committed = await ReplayAsync(merchantId, idempotencyKey, code, amount, ct);
                    if (committed is not null)
                    {
                        return committed;
                    }

                    var voucher = await FindAsync(merchantId, code, tracked: true, ct);
                    var redeem = CheckRedeemable(voucher, amount);
                    var now = time.GetUtcNow();
                    voucher.Balance -= redeem;
                    if (voucher.Balance == 0)
                    {
                        voucher.Status = VoucherStatus.Redeemed;
                    }

                    var redemption = new Redemption
                    {
                        Id = Guid.CreateVersion7(now),
                        VoucherId = voucher.Id,
                        MerchantId = merchantId,
                        RedeemedBy = actor.ToString(),
                        Amount = redeem,
                        Currency = voucher.Currency,
                        BalanceAfter = voucher.Balance,
                        IdempotencyKey = idempotencyKey,
                        At = now,
                    };
                    db.Redemptions.Add(redemption);
                    history.Record(voucher, VoucherActivityKind.Redeemed, actor, redeem, redemption.Id);
                    MerchantBooks.Post(db, merchantId, JournalEntryKind.Redemption, redemption.Id, voucher.Currency, now,
                        (LedgerAccount.VoucherLiability, redeem, 0),
                        (LedgerAccount.RedemptionRevenue, 0, redeem));
                    await OfferInvalidation.WithdrawInvolvingAsync(db, voucher.Id, "The voucher was redeemed.", now, ct);
                    await NotifyOwnerAsync(voucher, redeem, ct);
                    return new RedemptionReceipt(redemption.Id, voucher.Id, new Money(redeem, voucher.Currency), voucher.BalanceMoney, now, false);
                },
                cancellationToken);
            if (!receipt.Replayed)
            {
                LogRedeemed(logger, receipt.VoucherId, merchantId, receipt.Amount.Amount);
            }

            return receipt;
        }
        catch (DbUpdateException)
        {
            // A concurrent request with the same key won the insert: answer as its replay.
            var raced = await ReplayAsync(merchantId, idempotencyKey, code, amount, cancellationToken);
            if (raced is null)
            {
                throw;
            }

            return raced;
        }
    }

    /// <summary>Reverses a redemption of this merchant within the reversal window, restoring the balance.</summary>
    public async Task<Voucher> ReverseAsync(Actor actor, Guid merchantId, Guid redemptionId, CancellationToken cancellationToken = default)
    {
        await RequireRedeemerAsync(actor, merchantId, cancellationToken);
        var voucher = await db.InTransactionAsync(
            async ct =>
            {
                var redemption = await db.Redemptions.FirstOrDefaultAsync(r => r.Id == redemptionId && r.MerchantId == merchantId, ct)
                    ?? throw new NotFoundException("redemption.not_found", "No such redemption at this merchant.");
                var now = time.GetUtcNow();
                if (redemption.ReversedAt is not null)
                {
                    throw new ConflictException("redemption.already_reversed", "This redemption was already reversed.");
                }

                if (now - redemption.At > options.Value.RedemptionReversalWindow)
                {
                    throw new ConflictException("redemption.window_closed", "The time to reverse this redemption has passed.");
                }

                var voucher = await db.Vouchers.FirstAsync(v => v.Id == redemption.VoucherId, ct);
                if (voucher.Status is not (VoucherStatus.Active or VoucherStatus.Redeemed))
                {
                    throw new ConflictException("voucher.not_active", $"The voucher is {voucher.Status}.");
                }

                redemption.ReversedAt = now;
                voucher.Balance += redemption.Amount;
                voucher.Status = VoucherStatus.Active;
                history.Record(voucher, VoucherActivityKind.RedemptionReversed, actor, redemption.Amount, redemption.Id);
                MerchantBooks.Post(db, merchantId, JournalEntryKind.RedemptionReversal, redemption.Id, voucher.Currency, now,
                    (LedgerAccount.RedemptionRevenue, redemption.Amount, 0),
                    (LedgerAccount.VoucherLiability, 0, redemption.Amount));
                return voucher;
            },
            cancellationToken);
        LogReversed(logger, redemptionId, merchantId);
        return voucher;
    }

    /// <summary>The merchant's redemptions, newest first.</summary>
    public async Task<IReadOnlyList<Redemption>> ListAsync(Actor actor, Guid merchantId, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        await RequireRedeemerAsync(actor, merchantId, cancellationToken);
        return await db.Redemptions.AsNoTracking().Where(r => r.MerchantId == merchantId)
            .OrderByDescending(r => r.At).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 1000)).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The merchant's redemptions at or after <paramref name="from"/> and before <paramref name="to"/> (either open),
    /// newest first; ties broken by id so that paging is stable.
    /// </summary>
    public async Task<IReadOnlyList<Redemption>> ListAsync(Actor actor, Guid merchantId, DateTimeOffset? from, DateTimeOffset? to, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        await RequireRedeemerAsync(actor, merchantId, cancellationToken);
        var query = db.Redemptions.AsNoTracking().Where(r => r.MerchantId == merchantId);
        if (from is { } f)
        {
            query = query.Where(r => r.At >= f);
        }

        if (to is { } t)
        {
            query = query.Where(r => r.At < t);
        }

        return await query.OrderByDescending(r => r.At).ThenByDescending(r => r.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 10_000)).ToListAsync(cancellationToken);
    }

    private async Task RequireRedeemerAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken)
    {
        if (actor.Kind == ActorKind.Admin)
        {
            throw new ForbiddenException("redemption.staff_only", "Only the merchant's staff redeem vouchers.");
        }

        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Staff, cancellationToken);
        if (await db.Merchants.AnyAsync(m => m.Id == merchantId && m.SuspendedAt != null, cancellationToken))
        {
            throw new ConflictException("merchant.suspended", "This merchant is suspended and cannot redeem vouchers.");
        }
    }

    private async Task<Voucher> FindAsync(Guid merchantId, string code, bool tracked, CancellationToken cancellationToken)
    {
        if (!VoucherCode.TryParse(code, out var canonical, out var error))
        {
            throw new ValidationFailedException("code", error);
        }

        var query = tracked ? db.Vouchers : db.Vouchers.AsNoTracking();
        var voucher = await query.FirstOrDefaultAsync(v => v.Code == canonical, cancellationToken);
        return voucher is null || voucher.MerchantId != merchantId
            ? throw new NotFoundException("voucher.not_found", NotRedeemableHere)
            : voucher;
    }

    private long CheckRedeemable(Voucher voucher, long? amount)
    {
        var now = time.GetUtcNow();
        switch (voucher.Status)
        {
            case VoucherStatus.Redeemed:
                throw new ConflictException("voucher.already_redeemed", "This voucher has already been redeemed.");
            case VoucherStatus.Expired:
                throw new ConflictException("voucher.expired", "This voucher has expired.");
            case VoucherStatus.Refunded or VoucherStatus.Cancelled:
                throw new ConflictException("voucher.not_active", $"This voucher was {voucher.Status.ToString().ToLowerInvariant()}.");
        }

        if (now >= voucher.ExpiresAt)
        {
            throw new ConflictException("voucher.expired", "This voucher has expired.");
        }

        if (voucher.PendingGiftId is not null)
        {
            throw new ConflictException("voucher.gift_pending", "This voucher is being gifted and cannot be redeemed now.");
        }

        if (voucher.Kind == VoucherKind.SingleUse)
        {
            if (amount is not null && amount != voucher.Balance)
            {
                throw new ValidationFailedException("amount", "A single-use voucher is redeemed whole.");
            }

            return voucher.Balance;
        }

        var redeem = amount ?? voucher.Balance;
        if (redeem <= 0)
        {
            throw new ValidationFailedException("amount", "The amount must be positive.");
        }

        if (redeem > voucher.Balance)
        {
            throw new ConflictException("voucher.insufficient_balance", $"Only {voucher.BalanceMoney} is left on this voucher.");
        }

        return redeem;
    }

    private async Task<RedemptionReceipt?> ReplayAsync(Guid merchantId, string idempotencyKey, string code, long? amount, CancellationToken cancellationToken)
    {
        var previous = await db.Redemptions.AsNoTracking().FirstOrDefaultAsync(r => r.MerchantId == merchantId && r.IdempotencyKey == idempotencyKey, cancellationToken);
        if (previous is null)
        {
            return null;
        }

        var voucherCode = await db.Vouchers.Where(v => v.Id == previous.VoucherId).Select(v => v.Code).FirstAsync(cancellationToken);
        var sameVoucher = VoucherCode.TryParse(code, out var canonical, out _) && canonical == voucherCode;
        if (!sameVoucher || (amount is not null && amount != previous.Amount))
        {
            throw new IdempotencyConflictException("This idempotency key was already used for another redemption.");
        }

        return new RedemptionReceipt(previous.Id, previous.VoucherId, new Money(previous.Amount, previous.Currency), new Money(previous.BalanceAfter, previous.Currency), previous.At, true);
    }

    private async Task NotifyOwnerAsync(Voucher voucher, long redeemed, CancellationToken ct)
    {
        var owner = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == voucher.OwnerId, ct);
        if (owner is null)
        {
            return;
        }

        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == voucher.CampaignId, ct);
        var merchant = await db.Merchants.AsNoTracking().Where(m => m.Id == voucher.MerchantId).Select(m => new { m.Name, m.TimeZoneId }).FirstAsync(ct);
        outbox.Notify(new NotificationMessage(
            NotificationTypes.VoucherRedeemed,
            new NotificationRecipient(owner.Id, owner.Email, owner.DisplayName),
            owner.Language,
            new Dictionary<string, string>
            {
                ["campaignName"] = campaign.Localize(owner.Language).Name,
                ["merchantName"] = merchant.Name,
                ["amount"] = new Money(redeemed, voucher.Currency).ToString(),
                ["balance"] = voucher.BalanceMoney.ToString(),
                ["usedUp"] = NotificationFormat.Flag(voucher.Balance == 0),
                ["voucherId"] = voucher.Id.ToString(),
                ["at"] = NotificationFormat.Instant(time.GetUtcNow()),
                ["timeZone"] = merchant.TimeZoneId,
            },
            $"redeemed:{voucher.Id:N}:{voucher.Version}"));
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Voucher {VoucherId} redeemed at merchant {MerchantId}: {Amount} minor units")]
    private static partial void LogRedeemed(ILogger logger, Guid voucherId, Guid merchantId, long amount);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Redemption {RedemptionId} reversed by merchant {MerchantId}")]
    private static partial void LogReversed(ILogger logger, Guid redemptionId, Guid merchantId);
}
