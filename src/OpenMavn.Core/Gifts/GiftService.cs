using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Gifts;

/// <summary>A gift to send.</summary>
/// <param name="VoucherId">The sender's voucher.</param>
/// <param name="RecipientEmail">Recipient.</param>
/// <param name="Message">Personal message (≤ 1000).</param>
/// <param name="DeliverAt">Delivery time (null = now).</param>
public sealed record SendGift(Guid VoucherId, string RecipientEmail, string? Message = null, DateTimeOffset? DeliverAt = null);

/// <summary>
/// Gifting: the owner sends a transferable, active voucher to an email address. While the gift is in flight the
/// voucher is held (no redemption, exchange or second gift). A recipient with an account receives it on delivery;
/// one without claims it with a one-time token after signing up. The code rotates on every transfer, so a copy
/// kept by the sender is worthless.
/// </summary>
public sealed partial class GiftService(
    OpenMavnDbContext db,
    TimeProvider time,
    IOptions<OpenMavnOptions> options,
    VoucherHistory history,
    OutboxWriter outbox,
    Security.SecretProtector secrets,
    ILogger<GiftService> logger)
{
    /// <summary>Sends a gift. Returns it; the claim token only ever travels in the recipient's message.</summary>
    public async Task<Gift> SendAsync(Actor actor, SendGift command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        RequireCustomer(actor);
        var now = time.GetUtcNow();
        new Validator()
            .Check(!MerchantService.IsEmail(command.RecipientEmail), "recipientEmail", "A valid email address is required.")
            .Check(command.Message is { Length: > 1000 }, "message", "At most 1000 characters.")
            .Check(command.DeliverAt is { } at && at > now.AddYears(1), "deliverAt", "Delivery at most a year ahead.")
            .ThrowIfInvalid();
        var recipientEmail = MerchantService.NormalizeEmail(command.RecipientEmail);
        var token = NewToken();

        // Encrypt before the transaction: creating or rotating a Data Protection key writes to this database.
        var protectedToken = command.DeliverAt is { } deliverAt && deliverAt > now ? secrets.Protect(token) : null;

        var gift = await db.InTransactionAsync(
            async ct =>
            {
                var voucher = await db.Vouchers.FirstOrDefaultAsync(v => v.Id == command.VoucherId && v.OwnerId == actor.Id, ct)
                    ?? throw new NotFoundException("voucher.not_found", "No such voucher.");
                var campaign = await db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == voucher.CampaignId, ct);
                EnsureMovable(voucher, now);
                if (!campaign.Transferable)
                {
                    throw new ConflictException("voucher.not_transferable", "Vouchers of this campaign cannot be gifted.");
                }

                var sender = await db.Customers.AsNoTracking().FirstAsync(c => c.Id == actor.Id, ct);
                if (sender.Email == recipientEmail)
                {
                    throw new ValidationFailedException("recipientEmail", "You cannot gift a voucher to yourself.");
                }

                var gift = new Gift
                {
                    Id = Guid.CreateVersion7(now),
                    VoucherId = voucher.Id,
                    SenderId = actor.Id,
                    RecipientEmail = recipientEmail,
                    Message = command.Message?.Trim(),
                    DeliverAt = command.DeliverAt?.ToUniversalTime(),
                    ClaimTokenHash = HashToken(token),
                    Status = GiftStatus.Scheduled,
                    CreatedAt = now,
                };
                db.Gifts.Add(gift);
                voucher.PendingGiftId = gift.Id;
                history.Record(voucher, VoucherActivityKind.GiftSent, actor, 0, gift.Id);
                await OfferInvalidation.WithdrawInvolvingAsync(db, voucher.Id, "The voucher is being gifted.", now, ct);
                if (gift.DeliverAt is null || gift.DeliverAt <= now)
                {
                    await DeliverAsync(gift, voucher, token, ct);
                }
                else
                {
                    // Only the hash is needed to claim; the token itself waits encrypted until delivery.
                    gift.ProtectedClaimToken = protectedToken;
                }

                return gift;
            },
            cancellationToken);
        LogSent(logger, gift.Id, gift.VoucherId);
        return gift;
    }

    /// <summary>Claims a gift with its one-time token; the voucher moves to the caller with a fresh code.</summary>
    public async Task<Voucher> ClaimAsync(Actor actor, string token, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        if (string.IsNullOrWhiteSpace(token) || token.Length > 200)
        {
            throw new ValidationFailedException("token", "A claim token is required.");
        }

        var hash = HashToken(token.Trim());
        var voucher = await db.InTransactionAsync(
            async ct =>
            {
                var gift = await db.Gifts.FirstOrDefaultAsync(g => g.ClaimTokenHash == hash, ct)
                    ?? throw new NotFoundException("gift.not_found", "This gift link is not valid.");
                var now = time.GetUtcNow();
                if (gift.Status == GiftStatus.Scheduled && gift.DeliverAt > now)
                {
                    throw new ConflictException("gift.not_delivered", "This gift has not been delivered yet.");
                }

                if (gift.Status is GiftStatus.Completed or GiftStatus.Cancelled)
                {
                    throw new ConflictException("gift.closed", "This gift link has already been used or was cancelled.");
                }

                if (gift.SenderId == actor.Id)
                {
                    throw new ConflictException("gift.own", "You cannot claim your own gift.");
                }

                _ = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == actor.Id, ct)
                    ?? throw new NotFoundException("customer.not_found", "Complete your customer profile first.");
                var voucher = await db.Vouchers.FirstAsync(v => v.Id == gift.VoucherId, ct);
                // Only an active voucher changes hands (the expiry job cancels the gift of an expired one).
                if (voucher.Status == VoucherStatus.Expired || now >= voucher.ExpiresAt)
                {
                    throw new ConflictException("voucher.expired", "The gifted voucher has expired.");
                }

                if (voucher.Status != VoucherStatus.Active)
                {
                    throw new ConflictException("voucher.not_active", $"The gifted voucher is {voucher.Status}.");
                }

                Complete(gift, voucher, actor, actor.Id, now);
                await NotifySenderAsync(gift, ct);
                return voucher;
            },
            cancellationToken);
        LogClaimed(logger, voucher.Id);
        return voucher;
    }

    /// <summary>The sender takes back a gift that has not reached its recipient yet.</summary>
    public async Task CancelAsync(Actor actor, Guid giftId, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        await db.InTransactionAsync(
            async ct =>
            {
                var gift = await db.Gifts.FirstOrDefaultAsync(g => g.Id == giftId && g.SenderId == actor.Id, ct)
                    ?? throw new NotFoundException("gift.not_found", "No such gift.");
                if (gift.Status is GiftStatus.Completed or GiftStatus.Cancelled)
                {
                    throw new ConflictException("gift.closed", $"The gift is already {gift.Status}.");
                }

                var now = time.GetUtcNow();
                gift.Status = GiftStatus.Cancelled;
                gift.ClosedAt = now;
                gift.ProtectedClaimToken = null;
                var voucher = await db.Vouchers.FirstAsync(v => v.Id == gift.VoucherId, ct);
                if (voucher.PendingGiftId == gift.Id)
                {
                    voucher.PendingGiftId = null;
                    history.Record(voucher, VoucherActivityKind.GiftCancelled, actor, 0, gift.Id);
                }
            },
            cancellationToken);
    }

    /// <summary>Gifts sent and received by a customer (received: by account or by email address).</summary>
    public async Task<IReadOnlyList<Gift>> ListAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        var email = await db.Customers.Where(c => c.Id == actor.Id).Select(c => c.Email).FirstOrDefaultAsync(cancellationToken);
        return await db.Gifts.AsNoTracking()
            .Where(g => g.SenderId == actor.Id || g.RecipientId == actor.Id || (email != null && g.RecipientEmail == email && g.Status == GiftStatus.AwaitingClaim))
            .OrderByDescending(g => g.CreatedAt).ToListAsync(cancellationToken);
    }

    /// <summary>Delivers scheduled gifts whose time has come. Safe on several hosts.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var due = await db.Gifts.AsNoTracking().Where(g => g.Status == GiftStatus.Scheduled && g.DeliverAt <= now)
            .OrderBy(g => g.DeliverAt).Take(500).Select(g => g.Id).ToListAsync(cancellationToken);
        var delivered = 0;
        foreach (var id in due)
        {
            var done = await db.InTransactionAsync(
                async ct =>
                {
                    var gift = await db.Gifts.FirstAsync(g => g.Id == id, ct);
                    if (gift.Status != GiftStatus.Scheduled)
                    {
                        return false;
                    }

                    var voucher = await db.Vouchers.FirstAsync(v => v.Id == gift.VoucherId, ct);
                    if (voucher.Status != VoucherStatus.Active || now >= voucher.ExpiresAt)
                    {
                        // The voucher expired before its delivery date: nothing is left to give.
                        gift.Status = GiftStatus.Cancelled;
                        gift.ClosedAt = now;
                        gift.ProtectedClaimToken = null;
                        voucher.PendingGiftId = voucher.PendingGiftId == gift.Id ? null : voucher.PendingGiftId;
                        return false;
                    }

                    var token = secrets.Unprotect(gift.ProtectedClaimToken!);
                    gift.ProtectedClaimToken = null;
                    await DeliverAsync(gift, voucher, token, ct);
                    return true;
                },
                cancellationToken);
            delivered += done ? 1 : 0;
        }

        return delivered;
    }

    internal static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void RequireCustomer(Actor actor)
    {
        if (actor.Kind != ActorKind.Customer)
        {
            throw new ForbiddenException("gift.customer_only", "Only customers send and claim gifts.");
        }
    }

    internal static void EnsureMovable(Voucher voucher, DateTimeOffset now)
    {
        if (voucher.Status != VoucherStatus.Active || now >= voucher.ExpiresAt)
        {
            throw new ConflictException("voucher.not_active", "Only an active voucher can change hands.");
        }

        if (voucher.PendingGiftId is not null)
        {
            throw new ConflictException("voucher.gift_pending", "This voucher is already being gifted.");
        }
    }

    /// <summary>At delivery: a recipient with an account gets the voucher at once; otherwise the gift waits for its claim.</summary>
    private async Task DeliverAsync(Gift gift, Voucher voucher, string token, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var recipient = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Email == gift.RecipientEmail, ct);
        if (recipient is not null)
        {
            Complete(gift, voucher, Actor.System, recipient.Id, now);
            await NotifySenderAsync(gift, ct);
        }
        else
        {
            gift.Status = GiftStatus.AwaitingClaim;
        }

        await EnqueueReceivedAsync(gift, voucher, recipient is null ? token : null, ct);
    }

    private void Complete(Gift gift, Voucher voucher, Actor actor, Guid recipientId, DateTimeOffset now)
    {
        var from = voucher.OwnerId;
        gift.Status = GiftStatus.Completed;
        gift.RecipientId = recipientId;
        gift.ClosedAt = now;
        voucher.OwnerId = recipientId;
        voucher.PendingGiftId = null;
        voucher.Code = VoucherCode.Generate();
        history.Record(voucher, VoucherActivityKind.Transferred, actor, 0, gift.Id, from, recipientId);
    }

    private async Task EnqueueReceivedAsync(Gift gift, Voucher voucher, string? token, CancellationToken ct)
    {
        var sender = await db.Customers.AsNoTracking().FirstAsync(c => c.Id == gift.SenderId, ct);
        var recipient = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Email == gift.RecipientEmail, ct);
        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == voucher.CampaignId, ct);
        var merchant = await db.Merchants.AsNoTracking().Where(m => m.Id == voucher.MerchantId).Select(m => new { m.Name, m.TimeZoneId }).FirstAsync(ct);
        var language = recipient?.Language ?? sender.Language;
        var message = new NotificationMessage(
            NotificationTypes.GiftReceived,
            new NotificationRecipient(recipient?.Id, gift.RecipientEmail, recipient?.DisplayName),
            language,
            new Dictionary<string, string>
            {
                ["senderName"] = sender.DisplayName ?? sender.Email,
                ["message"] = gift.Message ?? "",
                ["campaignName"] = campaign.Localize(language).Name,
                ["merchantName"] = merchant.Name,
                ["value"] = voucher.BalanceMoney.ToString(),
                ["claimUrl"] = token is null ? "" : options.Value.GiftClaimUrl.Replace("{token}", Uri.EscapeDataString(token), StringComparison.Ordinal),
                ["giftId"] = gift.Id.ToString(),
                ["expiresAt"] = NotificationFormat.Instant(voucher.ExpiresAt),
                ["expiresOn"] = NotificationFormat.Date(NotificationFormat.LastValidDay(voucher.ExpiresAt, merchant.TimeZoneId)),
                ["timeZone"] = merchant.TimeZoneId,
            },
            $"gift:{gift.Id:N}");
        outbox.Notify(message);
    }

    private async Task NotifySenderAsync(Gift gift, CancellationToken ct)
    {
        var sender = await db.Customers.AsNoTracking().FirstAsync(c => c.Id == gift.SenderId, ct);
        var campaignId = await db.Vouchers.Where(v => v.Id == gift.VoucherId).Select(v => v.CampaignId).FirstAsync(ct);
        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == campaignId, ct);
        outbox.Notify(new NotificationMessage(
            NotificationTypes.GiftDelivered,
            new NotificationRecipient(sender.Id, sender.Email, sender.DisplayName),
            sender.Language,
            new Dictionary<string, string>
            {
                ["recipientEmail"] = gift.RecipientEmail,
                ["campaignName"] = campaign.Localize(sender.Language).Name,
                ["giftId"] = gift.Id.ToString(),
            },
            $"gift-delivered:{gift.Id:N}"));
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Gift {GiftId} of voucher {VoucherId} sent")]
    private static partial void LogSent(ILogger logger, Guid giftId, Guid voucherId);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Gifted voucher {VoucherId} claimed")]
    private static partial void LogClaimed(ILogger logger, Guid voucherId);
}
