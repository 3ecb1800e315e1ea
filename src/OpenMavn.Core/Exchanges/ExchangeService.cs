using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Exchanges;

/// <summary>An exchange offer to make: give <paramref name="OfferedVoucherId"/> for a specific voucher or for any voucher of a campaign.</summary>
/// <param name="OfferedVoucherId">The offerer's voucher (X).</param>
/// <param name="RequestedVoucherId">The wanted voucher (Y), or null.</param>
/// <param name="RequestedCampaignId">Any voucher of this campaign, or null.</param>
public sealed record OfferExchange(Guid OfferedVoucherId, Guid? RequestedVoucherId, Guid? RequestedCampaignId);

/// <summary>
/// Exchanges between customers: A offers X for B's Y (or for any voucher of a campaign); B accepts or declines.
/// Acceptance swaps both owners in one transaction or not at all; an offer whose voucher changed in the meantime
/// is withdrawn instead.
/// </summary>
public sealed partial class ExchangeService(
    OpenMavnDbContext db,
    TimeProvider time,
    IOptions<OpenMavnOptions> options,
    VoucherHistory history,
    OutboxWriter outbox,
    ILogger<ExchangeService> logger)
{
    /// <summary>Makes an offer.</summary>
    public async Task<ExchangeOffer> OfferAsync(Actor actor, OfferExchange command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        RequireCustomer(actor);
        if ((command.RequestedVoucherId is null) == (command.RequestedCampaignId is null))
        {
            throw new ValidationFailedException("requestedVoucherId", "Ask for either one voucher or any voucher of one campaign.");
        }

        var offer = await db.InTransactionAsync(
            async ct =>
            {
                var now = time.GetUtcNow();
                var offered = await db.Vouchers.AsNoTracking().FirstOrDefaultAsync(v => v.Id == command.OfferedVoucherId && v.OwnerId == actor.Id, ct)
                    ?? throw new NotFoundException("voucher.not_found", "No such voucher.");
                await EnsureExchangeableAsync(offered, now, "offeredVoucherId", ct);
                Voucher? requested = null;
                if (command.RequestedVoucherId is { } requestedId)
                {
                    requested = await db.Vouchers.AsNoTracking().FirstOrDefaultAsync(v => v.Id == requestedId, ct)
                        ?? throw new NotFoundException("voucher.not_found", "The requested voucher does not exist.");
                    if (requested.OwnerId == actor.Id)
                    {
                        throw new ValidationFailedException("requestedVoucherId", "You already own this voucher.");
                    }

                    await EnsureExchangeableAsync(requested, now, "requestedVoucherId", ct);
                }
                else
                {
                    var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == command.RequestedCampaignId, ct)
                        ?? throw new NotFoundException("campaign.not_found", "No such campaign.");
                    if (!campaign.Exchangeable)
                    {
                        throw new ConflictException("campaign.not_exchangeable", "Vouchers of this campaign cannot be exchanged.");
                    }
                }

                var offer = new ExchangeOffer
                {
                    Id = Guid.CreateVersion7(now),
                    OffererId = actor.Id,
                    OfferedVoucherId = offered.Id,
                    OfferedVoucherVersion = offered.Version,
                    RequestedVoucherId = requested?.Id,
                    RequestedVoucherVersion = requested?.Version,
                    CounterpartyId = requested?.OwnerId,
                    RequestedCampaignId = requested is null ? command.RequestedCampaignId : null,
                    Status = ExchangeOfferStatus.Open,
                    CreatedAt = now,
                    ExpiresAt = now + options.Value.ExchangeOfferLifetime,
                };
                db.ExchangeOffers.Add(offer);
                if (requested is not null)
                {
                    await NotifyAsync(NotificationTypes.ExchangeOffered, requested.OwnerId, offer, ct);
                }

                return offer;
            },
            cancellationToken);
        LogOffered(logger, offer.Id);
        return offer;
    }

    /// <summary>
    /// Accepts an offer. For a campaign-wide offer, <paramref name="givenVoucherId"/> names the caller's voucher of that
    /// campaign. Either both vouchers change hands (with fresh codes) or neither does.
    /// </summary>
    public async Task<ExchangeOffer> AcceptAsync(Actor actor, Guid offerId, Guid? givenVoucherId = null, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        var (offer, withdrawnBecause) = await db.InTransactionAsync(
            async ct =>
            {
                var now = time.GetUtcNow();
                // A specific offer concerns its two parties only; a campaign-wide one is shown to every holder, who
                // may try it and is told when someone else was faster.
                var offer = await LoadOpenAsync(offerId, o => o.CounterpartyId is null || o.OffererId == actor.Id || o.CounterpartyId == actor.Id, ct);
                if (offer.OffererId == actor.Id)
                {
                    throw new ConflictException("exchange.own_offer", "You cannot accept your own offer.");
                }

                var wantedId = offer.RequestedVoucherId ?? givenVoucherId
                    ?? throw new ValidationFailedException("givenVoucherId", "Name the voucher of the requested campaign you give.");
                var offered = await db.Vouchers.FirstAsync(v => v.Id == offer.OfferedVoucherId, ct);
                var wanted = await db.Vouchers.FirstOrDefaultAsync(v => v.Id == wantedId && v.OwnerId == actor.Id, ct)
                    ?? throw new NotFoundException("voucher.not_found", "You do not own that voucher.");
                if (offer.RequestedCampaignId is { } campaignId)
                {
                    if (wanted.CampaignId != campaignId)
                    {
                        throw new ValidationFailedException("givenVoucherId", "That voucher is not of the requested campaign.");
                    }

                    // The caller picked this voucher, it is not part of the offer: refuse the caller and keep the
                    // offer open for other holders instead of withdrawing it below.
                    await EnsureExchangeableAsync(wanted, now, "givenVoucherId", ct);
                }

                var changed = offered.Version != offer.OfferedVoucherVersion || offered.OwnerId != offer.OffererId
                    || (offer.RequestedVoucherVersion is { } v && wanted.Version != v);
                string? reason = changed ? "A voucher changed after the offer was made." : null;
                if (reason is null)
                {
                    try
                    {
                        await EnsureExchangeableAsync(offered, now, "offeredVoucherId", ct);
                        await EnsureExchangeableAsync(wanted, now, "givenVoucherId", ct);
                    }
                    catch (OpenMavnException ex) when (ex is ConflictException)
                    {
                        reason = ex.Message;
                    }
                }

                if (reason is not null)
                {
                    offer.Status = ExchangeOfferStatus.Withdrawn;
                    offer.ClosedAt = now;
                    offer.CloseReason = reason;
                    return (offer, reason);
                }

                var a = offered.OwnerId;
                var b = wanted.OwnerId;
                Move(offered, b, actor, offer.Id, a);
                Move(wanted, a, actor, offer.Id, b);
                offer.Status = ExchangeOfferStatus.Accepted;
                offer.AcceptedVoucherId = wanted.Id;
                offer.AcceptedById = actor.Id;
                offer.ClosedAt = now;

                // Any other open offer on either voucher is void now.
                await db.SaveChangesAsync(ct);
                await OfferInvalidation.WithdrawInvolvingAsync(db, offered.Id, "The voucher was exchanged.", now, ct);
                await OfferInvalidation.WithdrawInvolvingAsync(db, wanted.Id, "The voucher was exchanged.", now, ct);
                await NotifyAsync(NotificationTypes.ExchangeAccepted, a, offer, ct);
                return (offer, (string?)null);
            },
            cancellationToken);
        if (withdrawnBecause is not null)
        {
            throw new ConflictException("exchange.voucher_changed", "The offer was withdrawn: " + withdrawnBecause);
        }

        LogAccepted(logger, offerId);
        return offer;
    }

    /// <summary>The counterparty declines.</summary>
    public async Task DeclineAsync(Actor actor, Guid offerId, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        await db.InTransactionAsync(
            async ct =>
            {
                var offer = await LoadOpenAsync(offerId, o => o.CounterpartyId == actor.Id, ct);
                offer.Status = ExchangeOfferStatus.Declined;
                offer.ClosedAt = time.GetUtcNow();
                await NotifyAsync(NotificationTypes.ExchangeDeclined, offer.OffererId, offer, ct);
            },
            cancellationToken);
    }

    /// <summary>The offerer withdraws.</summary>
    public async Task WithdrawAsync(Actor actor, Guid offerId, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        await db.InTransactionAsync(
            async ct =>
            {
                var offer = await LoadOpenAsync(offerId, o => o.OffererId == actor.Id, ct);
                offer.Status = ExchangeOfferStatus.Withdrawn;
                offer.ClosedAt = time.GetUtcNow();
                offer.CloseReason = "Withdrawn by the offerer.";
            },
            cancellationToken);
    }

    /// <summary>Offers made by or to the customer (including campaign-wide offers they could accept), newest first.</summary>
    public async Task<IReadOnlyList<ExchangeOffer>> ListAsync(Actor actor, bool openOnly = true, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        var now = time.GetUtcNow();
        var myCampaigns = db.Vouchers.Where(v => v.OwnerId == actor.Id && v.Status == VoucherStatus.Active).Select(v => v.CampaignId);
        return await db.ExchangeOffers.AsNoTracking()
            .Where(o => o.OffererId == actor.Id || o.CounterpartyId == actor.Id
                || (o.RequestedCampaignId != null && o.Status == ExchangeOfferStatus.Open && myCampaigns.Contains(o.RequestedCampaignId.Value)))
            .Where(o => !openOnly || (o.Status == ExchangeOfferStatus.Open && o.ExpiresAt > now))
            .OrderByDescending(o => o.CreatedAt).Take(200).ToListAsync(cancellationToken);
    }

    /// <summary>Marks lapsed open offers expired. Safe on several hosts.</summary>
    public Task<int> ExpireDueAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        return db.ExchangeOffers.Where(o => o.Status == ExchangeOfferStatus.Open && o.ExpiresAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, ExchangeOfferStatus.Expired).SetProperty(o => o.ClosedAt, now).SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
    }

    private static void RequireCustomer(Actor actor)
    {
        if (actor.Kind != ActorKind.Customer)
        {
            throw new ForbiddenException("exchange.customer_only", "Only customers exchange vouchers.");
        }
    }

    /// <summary>
    /// Loads an open offer. One the caller may not act on is "not found" whatever its state, so its status never
    /// tells an outsider that it exists.
    /// </summary>
    private async Task<ExchangeOffer> LoadOpenAsync(Guid offerId, Func<ExchangeOffer, bool> concernsCaller, CancellationToken ct)
    {
        var offer = await db.ExchangeOffers.FirstOrDefaultAsync(o => o.Id == offerId, ct);
        if (offer is null || !concernsCaller(offer))
        {
            throw new NotFoundException("exchange.not_found", "No such offer.");
        }

        if (offer.Status == ExchangeOfferStatus.Open && offer.ExpiresAt <= time.GetUtcNow())
        {
            throw new ConflictException("exchange.expired", "This offer has expired.");
        }

        return offer.Status != ExchangeOfferStatus.Open
            ? throw new ConflictException("exchange.closed", $"This offer is {offer.Status}.")
            : offer;
    }

    private async Task EnsureExchangeableAsync(Voucher voucher, DateTimeOffset now, string field, CancellationToken ct)
    {
        GiftService.EnsureMovable(voucher, now);
        var exchangeable = await db.Campaigns.Where(c => c.Id == voucher.CampaignId).Select(c => c.Exchangeable).FirstAsync(ct);
        if (!exchangeable)
        {
            throw new ConflictException("voucher.not_exchangeable", $"The voucher in {field} belongs to a campaign whose vouchers cannot be exchanged.");
        }
    }

    private void Move(Voucher voucher, Guid to, Actor actor, Guid offerId, Guid from)
    {
        voucher.OwnerId = to;
        voucher.Code = VoucherCode.Generate();
        history.Record(voucher, VoucherActivityKind.Exchanged, actor, 0, offerId, from, to);
    }

    /// <summary>
    /// Tells <paramref name="customerId"/> about the offer, from their side: "given" is what they give (or would have
    /// given), "received" what they get, "other" the other party. For a campaign-wide request the given value is
    /// empty (any voucher of that campaign).
    /// </summary>
    private async Task NotifyAsync(string type, Guid customerId, ExchangeOffer offer, CancellationToken ct)
    {
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == customerId, ct);
        if (customer is null)
        {
            return;
        }

        var isOfferer = customerId == offer.OffererId;
        var otherId = isOfferer ? offer.AcceptedById ?? offer.CounterpartyId : offer.OffererId;
        var other = otherId is { } id ? await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct) : null;

        // The offerer's side of the trade and the counterparty's side (the voucher accepted, else the one asked for).
        var offered = await SideAsync(offer.OfferedVoucherId, null, customer.Language, ct);
        var requested = await SideAsync(offer.AcceptedVoucherId ?? offer.RequestedVoucherId, offer.RequestedCampaignId, customer.Language, ct);
        var (given, received) = isOfferer ? (offered, requested) : (requested, offered);
        var model = new Dictionary<string, string>
        {
            ["offerId"] = offer.Id.ToString(),
            ["otherName"] = other is null ? "" : other.DisplayName ?? other.Email,
            ["givenCampaignName"] = given.CampaignName,
            ["givenValue"] = given.Value,
            ["receivedCampaignName"] = received.CampaignName,
            ["receivedValue"] = received.Value,
        };
        if (type == NotificationTypes.ExchangeOffered)
        {
            model["offerExpiresAt"] = NotificationFormat.Instant(offer.ExpiresAt);
            model["timeZone"] = received.TimeZoneId;
        }

        outbox.Notify(new NotificationMessage(
            type,
            new NotificationRecipient(customer.Id, customer.Email, customer.DisplayName),
            customer.Language,
            model,
            $"{type}:{offer.Id:N}"));
    }

    private async Task<(string CampaignName, string Value, string TimeZoneId)> SideAsync(Guid? voucherId, Guid? campaignId, string language, CancellationToken ct)
    {
        var voucher = voucherId is { } vid ? await db.Vouchers.AsNoTracking().FirstAsync(v => v.Id == vid, ct) : null;
        var id = voucher?.CampaignId ?? campaignId ?? throw new InvalidOperationException("An offer names a voucher or a campaign.");
        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == id, ct);
        var timeZone = await db.Merchants.Where(m => m.Id == campaign.MerchantId).Select(m => m.TimeZoneId).FirstAsync(ct);
        return (campaign.Localize(language).Name, voucher?.BalanceMoney.ToString() ?? "", timeZone);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Exchange offer {OfferId} made")]
    private static partial void LogOffered(ILogger logger, Guid offerId);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Exchange offer {OfferId} accepted")]
    private static partial void LogAccepted(ILogger logger, Guid offerId);
}
