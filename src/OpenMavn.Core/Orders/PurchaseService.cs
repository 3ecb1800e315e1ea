using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Security;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Orders;

/// <summary>A customer's request to buy.</summary>
/// <param name="CampaignId">Campaign.</param>
/// <param name="Quantity">How many vouchers.</param>
/// <param name="IdempotencyKey">Client-chosen key: the same key returns the same order.</param>
/// <param name="Language">Language for the payment page and messages (default: the customer's).</param>
public sealed record PlaceOrder(Guid CampaignId, int Quantity, string IdempotencyKey, string? Language = null);

/// <summary>What happened to a payment report.</summary>
public enum PaymentApplication
{
    /// <summary>Nothing changed (still pending, or already applied: a duplicate).</summary>
    NoChange = 0,

    /// <summary>The order was paid and its vouchers issued.</summary>
    VouchersIssued = 1,

    /// <summary>Paid after its reservation lapsed and nothing was left: a refund was queued.</summary>
    RefundQueued = 2,

    /// <summary>The payment failed; the stock went back.</summary>
    OrderFailed = 3,

    /// <summary>The report did not match the order (amount, currency, reference, test mode) and was refused.</summary>
    Rejected = 4,

    /// <summary>No order matches.</summary>
    UnknownOrder = 5,
}

/// <summary>
/// Buying vouchers: an idempotent order reserves stock atomically, the payment provider's checkout collects the
/// money, and vouchers are issued exactly once when the (verified) payment confirmation arrives.
/// </summary>
public sealed partial class PurchaseService(
    OpenMavnDbContext db,
    TimeProvider time,
    IOptions<OpenMavnOptions> options,
    PaymentProviders providers,
    SecretProtector secrets,
    OutboxWriter outbox,
    VoucherHistory history,
    ILogger<PurchaseService> logger)
{
    private readonly OpenMavnOptions _options = options.Value;

    /// <summary>
    /// Places (or replays) an order. The same key with the same campaign and quantity returns the same order;
    /// with other content it is refused. Free campaigns issue at once; otherwise the returned order carries the
    /// checkout link.
    /// </summary>
    public async Task<Order> PlaceOrderAsync(Actor actor, PlaceOrder command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(command);
        if (actor.Kind != ActorKind.Customer)
        {
            throw new ForbiddenException("order.customer_only", "Only customers place orders.");
        }

        new Validator()
            .Check(command.Quantity < 1 || command.Quantity > _options.MaxOrderQuantity, "quantity", $"The quantity must be between 1 and {_options.MaxOrderQuantity}.")
            .Check(string.IsNullOrWhiteSpace(command.IdempotencyKey) || command.IdempotencyKey.Length > 128 || command.IdempotencyKey.Any(char.IsControl), "idempotencyKey", "An idempotency key of 1 to 128 printable characters is required.")
            .Check(command.Language is not null && !Languages.IsValid(command.Language), "language", "A two-letter language code.")
            .ThrowIfInvalid();

        var existing = await FindReplayAsync(actor.Id, command, cancellationToken);
        if (existing is not null)
        {
            return await EnsureCheckoutAsync(existing, cancellationToken);
        }

        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == actor.Id, cancellationToken)
            ?? throw new NotFoundException("customer.not_found", "Complete your customer profile before buying.");
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == command.CampaignId, cancellationToken)
            ?? throw new NotFoundException("campaign.not_found", "No such campaign.");
        var merchant = await db.Merchants.AsNoTracking().Include(m => m.PaymentAccount).FirstAsync(m => m.Id == campaign.MerchantId, cancellationToken);
        var now = time.GetUtcNow();
        EnsureOnSale(campaign, merchant, now);

        Order order;
        try
        {
            order = await db.InTransactionAsync(ct => ReserveAsync(actor, customer.Language, command, merchant, ct), cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent request with the same key won the insert: this is a replay of it.
            var raced = await FindReplayAsync(actor.Id, command, cancellationToken);
            if (raced is null)
            {
                throw;
            }

            return await EnsureCheckoutAsync(raced, cancellationToken);
        }

        LogOrderPlaced(logger, order.Id, order.CampaignId, order.Quantity, order.Status);
        return await EnsureCheckoutAsync(order, cancellationToken);
    }

    /// <summary>Reads an order; customers see their own, merchant members their merchant's.</summary>
    public async Task<Order> GetOrderAsync(Actor actor, Guid orderId, CancellationToken cancellationToken = default)
    {
        var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken)
            ?? throw new NotFoundException("order.not_found", "No such order.");
        if (actor.Kind == ActorKind.Customer && order.CustomerId != actor.Id)
        {
            throw new NotFoundException("order.not_found", "No such order.");
        }

        if (actor.Kind is ActorKind.MerchantMember or ActorKind.ApiKey)
        {
            await MerchantAccess.RequireAsync(db, actor, order.MerchantId, MerchantRole.Staff, cancellationToken);
        }

        return order;
    }

    /// <summary>A customer's orders, newest first.</summary>
    public async Task<IReadOnlyList<Order>> ListMineAsync(Actor actor, int skip = 0, int take = 50, CancellationToken cancellationToken = default)
    {
        if (actor.Kind != ActorKind.Customer)
        {
            throw new ForbiddenException("order.customer_only", "Only customers have orders.");
        }

        return await db.Orders.AsNoTracking().Where(o => o.CustomerId == actor.Id)
            .OrderByDescending(o => o.CreatedAt).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 200)).ToListAsync(cancellationToken);
    }

    /// <summary>A merchant's paid (and refunded) orders in a period, newest first (ties by id, so paging is stable; members and API keys).</summary>
    public async Task<IReadOnlyList<Order>> ListSalesAsync(Actor actor, Guid merchantId, DateTimeOffset? from = null, DateTimeOffset? to = null, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Staff, cancellationToken);
        var query = db.Orders.AsNoTracking().Where(o => o.MerchantId == merchantId && o.PaidAt != null);
        if (from is { } f)
        {
            query = query.Where(o => o.PaidAt >= f);
        }

        if (to is { } t)
        {
            query = query.Where(o => o.PaidAt < t);
        }

        return await query.OrderByDescending(o => o.PaidAt).ThenByDescending(o => o.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 10_000)).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Handles a payment webhook: the provider parses it into a hint, the payment is re-read from the provider,
    /// and only a report that matches the stored order is applied.
    /// </summary>
    public async Task<PaymentApplication> HandleWebhookAsync(string providerName, PaymentWebhookRequest request, CancellationToken cancellationToken = default)
    {
        if (!providers.TryGet(providerName, out var provider))
        {
            throw new NotFoundException("payment.provider_unknown", $"No payment provider '{providerName}'.");
        }

        var hint = await provider.ParseWebhookAsync(request, cancellationToken);
        if (hint is null)
        {
            return PaymentApplication.UnknownOrder;
        }

        var order = hint.OrderId is { } orderId
            ? await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken)
            : await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.PaymentProvider == provider.Name && o.ProviderPaymentId == hint.ProviderPaymentId, cancellationToken);
        if (order is null || !string.Equals(order.PaymentProvider, provider.Name, StringComparison.OrdinalIgnoreCase))
        {
            LogWebhookUnknown(logger, provider.Name, hint.DedupeKey);
            return PaymentApplication.UnknownOrder;
        }

        return await RefreshPaymentAsync(order.Id, cancellationToken);
    }

    /// <summary>
    /// Receives a webhook fast: the provider parses it into a hint, which is queued in the outbox under the hint's
    /// dedupe key (Payrexx: transaction uuid + status), so a repeated delivery is dropped and the verification (re-reading
    /// the payment from the provider) happens in the background with retries. Answer the provider with 200 whatever
    /// this returns, except when it throws.
    /// </summary>
    public async Task<WebhookReceipt> QueueWebhookAsync(string providerName, PaymentWebhookRequest request, CancellationToken cancellationToken = default)
    {
        if (!providers.TryGet(providerName, out var provider))
        {
            throw new NotFoundException("payment.provider_unknown", $"No payment provider '{providerName}'.");
        }

        var hint = await provider.ParseWebhookAsync(request, cancellationToken);
        if (hint is null || (hint.OrderId is null && hint.ProviderPaymentId is null))
        {
            return WebhookReceipt.Ignored;
        }

        var dedupeKey = $"webhook:{provider.Name}:{hint.DedupeKey}";
        if (dedupeKey.Length > 200)
        {
            dedupeKey = "webhook:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dedupeKey)));
        }

        if (await db.OutboxMessages.AnyAsync(m => m.DedupeKey == dedupeKey, cancellationToken))
        {
            return WebhookReceipt.Duplicate;
        }

        outbox.Add(OutboxTypes.PaymentWebhook, new WebhookPayload(provider.Name, hint.OrderId, hint.ProviderPaymentId, hint.DedupeKey), dedupeKey);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same delivery arrived twice at once: the other one queued it.
            db.ChangeTracker.Clear();
            return WebhookReceipt.Duplicate;
        }

        return WebhookReceipt.Queued;
    }

    /// <summary>Verifies and applies a queued webhook hint (the outbox's handler calls this).</summary>
    internal async Task<PaymentApplication> ApplyWebhookHintAsync(WebhookPayload hint, CancellationToken cancellationToken)
    {
        var order = hint.OrderId is { } orderId
            ? await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken)
            : await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.PaymentProvider == hint.Provider && o.ProviderPaymentId == hint.ProviderPaymentId, cancellationToken);
        if (order is null || !string.Equals(order.PaymentProvider, hint.Provider, StringComparison.OrdinalIgnoreCase))
        {
            LogWebhookUnknown(logger, hint.Provider, hint.DedupeKey);
            return PaymentApplication.UnknownOrder;
        }

        return await RefreshPaymentAsync(order.Id, cancellationToken);
    }

    /// <summary>
    /// Completes refunds the provider accepted but had not finished (Payrexx <c>refund_pending</c>): once the payment
    /// reads refunded or partially refunded, the refund is completed and the customer told. Safe on several hosts.
    /// </summary>
    public async Task<int> CompletePendingRefundsAsync(CancellationToken cancellationToken = default)
    {
        var pending = await db.Refunds.AsNoTracking().Where(r => r.Status == RefundStatus.Pending).OrderBy(r => r.CreatedAt).Take(100).ToListAsync(cancellationToken);
        var completed = 0;
        foreach (var refund in pending)
        {
            var order = await db.Orders.AsNoTracking().FirstAsync(o => o.Id == refund.OrderId, cancellationToken);
            try
            {
                var (provider, credentials) = await ProviderForAsync(order.MerchantId, order.PaymentProvider!, cancellationToken);
                var report = await provider.GetPaymentAsync(credentials, order.ProviderPaymentId!, cancellationToken);
                if (report.Status is not (PaymentStatus.Refunded or PaymentStatus.PartiallyRefunded))
                {
                    continue;
                }
            }
            catch (ProviderException ex)
            {
                LogPollFailed(logger, order.Id, ex.Message);
                continue;
            }

            var done = await db.InTransactionAsync(
                async ct =>
                {
                    var tracked = await db.Refunds.FirstAsync(r => r.Id == refund.Id, ct);
                    if (tracked.Status != RefundStatus.Pending)
                    {
                        return false;
                    }

                    tracked.Status = RefundStatus.Completed;
                    tracked.ClosedAt = time.GetUtcNow();
                    if (tracked.VoucherId is null)
                    {
                        await db.Orders.Where(o => o.Id == order.Id && o.Status == OrderStatus.RefundPending)
                            .ExecuteUpdateAsync(x => x.SetProperty(o => o.Status, OrderStatus.Refunded).SetProperty(o => o.Version, o => o.Version + 1), ct);
                    }

                    await VoucherService.NotifyRefundCompletedAsync(db, outbox, tracked, order.CustomerId, ct);

                    return true;
                },
                cancellationToken);
            completed += done ? 1 : 0;
        }

        return completed;
    }

    /// <summary>Asks the provider for an order's payment state and applies it (polling fallback, sandbox, webhooks).</summary>
    public async Task<PaymentApplication> RefreshPaymentAsync(Guid orderId, CancellationToken cancellationToken = default)
    {
        var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken);
        if (order is null)
        {
            return PaymentApplication.UnknownOrder;
        }

        if (order.PaymentProvider is null || order.ProviderPaymentId is null)
        {
            return PaymentApplication.NoChange;
        }

        var (provider, credentials) = await ProviderForAsync(order.MerchantId, order.PaymentProvider, cancellationToken);
        var report = await provider.GetPaymentAsync(credentials, order.ProviderPaymentId, cancellationToken);
        var now = time.GetUtcNow();
        await db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(s => s.SetProperty(o => o.LastStatusCheckAt, now), cancellationToken);
        if (report.IsTest && !provider.AcceptsTestPayments)
        {
            LogReportRejected(logger, order.Id, "test mode");
            return PaymentApplication.Rejected;
        }

        return await ApplyVerifiedReportAsync(order, report, cancellationToken);
    }

    /// <summary>Lapses unpaid reservations whose time is up and returns their stock. Safe on several hosts.</summary>
    public async Task<int> ExpireReservationsAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var due = await db.Orders.AsNoTracking()
            .Where(o => o.Status == OrderStatus.PendingPayment && o.ReservationExpiresAt <= now)
            .OrderBy(o => o.ReservationExpiresAt).Take(500)
            .Select(o => new { o.Id, o.CampaignId, o.Quantity, o.ProviderPaymentId, o.MerchantId, o.PaymentProvider })
            .ToListAsync(cancellationToken);
        var expired = 0;
        foreach (var o in due)
        {
            var done = await db.InTransactionAsync(
                async ct =>
                {
                    var rows = await db.Orders
                        .Where(x => x.Id == o.Id && x.Status == OrderStatus.PendingPayment && x.HoldsStock)
                        .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, OrderStatus.Expired).SetProperty(x => x.HoldsStock, false).SetProperty(x => x.Version, x => x.Version + 1), ct);
                    if (rows == 0)
                    {
                        return false;
                    }

                    await ReleaseStockAsync(o.CampaignId, o.Quantity, ct);
                    if (o.ProviderPaymentId is not null)
                    {
                        outbox.Add(OutboxTypes.PaymentCancelCheckout, new CancelCheckoutPayload(o.Id, o.MerchantId, o.PaymentProvider!, o.ProviderPaymentId), $"cancel-checkout:{o.Id:N}");
                    }

                    return true;
                },
                cancellationToken);
            if (done)
            {
                expired++;
                LogReservationExpired(logger, o.Id);
            }
        }

        return expired;
    }

    /// <summary>
    /// Polling fallback: orders with no confirmation after <see cref="JobOptions.PaymentPollDelay"/> (and orders that
    /// lapsed in the last day) are checked with their provider, so a lost webhook never strands a paid order.
    /// </summary>
    public async Task<int> PollPendingPaymentsAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var threshold = now - _options.Jobs.PaymentPollDelay;
        var lapsedSince = now - TimeSpan.FromDays(1);
        var due = await db.Orders.AsNoTracking()
            .Where(o => o.ProviderPaymentId != null && o.CreatedAt <= threshold
                && (o.LastStatusCheckAt == null || o.LastStatusCheckAt <= threshold)
                && (o.Status == OrderStatus.PendingPayment || (o.Status == OrderStatus.Expired && o.ReservationExpiresAt >= lapsedSince)))
            .OrderBy(o => o.CreatedAt).Take(100).Select(o => o.Id).ToListAsync(cancellationToken);
        var changed = 0;
        foreach (var id in due)
        {
            try
            {
                if (await RefreshPaymentAsync(id, cancellationToken) is PaymentApplication.VouchersIssued or PaymentApplication.OrderFailed or PaymentApplication.RefundQueued)
                {
                    changed++;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // One order's provider trouble must not stop the polling of the others.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPollFailed(logger, id, ex.Message);
            }
        }

        return changed;
    }

    internal async Task<(IPaymentProvider Provider, PaymentAccountCredentials Credentials)> ProviderForAsync(Guid merchantId, string providerName, CancellationToken cancellationToken)
    {
        var account = await db.MerchantPaymentAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.MerchantId == merchantId, cancellationToken)
            ?? throw new ConflictException("merchant.no_payment_account", "The merchant has no payment account.");
        var provider = providers.Get(providerName);
        return (provider, new PaymentAccountCredentials(account.AccountId, secrets.Unprotect(account.ProtectedSecret)));
    }

    private static void EnsureOnSale(Campaign campaign, Merchant merchant, DateTimeOffset now)
    {
        if (campaign.State != CampaignState.Published || merchant.KycStatus != KycStatus.Approved || merchant.SuspendedAt is not null)
        {
            throw new ConflictException("campaign.not_on_sale", "This campaign is not on sale.");
        }

        if (campaign.SalesStartAt is { } start && now < start)
        {
            throw new ConflictException("campaign.not_started", "Sales have not started yet.");
        }

        if (campaign.SalesEndAt is { } end && now >= end)
        {
            throw new ConflictException("campaign.sales_ended", "Sales have ended.");
        }

        if (campaign.ValidityKind == ValidityKind.FixedDate
            && CampaignService.ComputeExpiry(campaign.ValidityKind, campaign.ValidUntil, campaign.ValidityDays, merchant.TimeZoneId, now) <= now)
        {
            throw new ConflictException("campaign.sales_ended", "Sales have ended: the vouchers' last valid day is past.");
        }

        if (campaign.Price > 0 && merchant.PaymentAccount is null)
        {
            throw new ConflictException("campaign.not_on_sale", "This campaign is not on sale.");
        }
    }

    private async Task<Order?> FindReplayAsync(Guid customerId, PlaceOrder command, CancellationToken cancellationToken)
    {
        var existing = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.CustomerId == customerId && o.IdempotencyKey == command.IdempotencyKey, cancellationToken);
        if (existing is not null && (existing.CampaignId != command.CampaignId || existing.Quantity != command.Quantity))
        {
            throw new IdempotencyConflictException("This idempotency key was already used for a different order.");
        }

        return existing;
    }

    private async Task<Order> ReserveAsync(Actor actor, string customerLanguage, PlaceOrder command, Merchant merchant, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var quantity = command.Quantity;

        // The guarded update is the stock check: it never lets Reserved pass Supply, whatever runs beside it.
        var rows = await db.Campaigns
            .Where(c => c.Id == command.CampaignId && c.State == CampaignState.Published && c.Reserved + quantity <= c.Supply)
            .ExecuteUpdateAsync(
                s => s.SetProperty(c => c.Reserved, c => c.Reserved + quantity)
                    .SetProperty(c => c.TermsFrozenAt, c => c.TermsFrozenAt ?? now)
                    .SetProperty(c => c.Version, c => c.Version + 1),
                ct);
        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == command.CampaignId, ct);
        if (rows == 0)
        {
            throw campaign.State != CampaignState.Published
                ? new ConflictException("campaign.not_on_sale", "This campaign is not on sale.")
                : new ConflictException("campaign.sold_out", campaign.Available <= 0 ? "Sold out." : $"Only {campaign.Available} left.");
        }

        if (campaign.PerCustomerLimit is { } limit)
        {
            // The campaign row is now locked by this transaction, so concurrent orders of one customer queue here.
            var held = await db.Orders.Where(o => o.CampaignId == campaign.Id && o.CustomerId == actor.Id && (o.HoldsStock || o.Status == OrderStatus.Paid)).SumAsync(o => o.Quantity, ct);
            if (held + quantity > limit)
            {
                throw new ConflictException("campaign.customer_limit", $"At most {limit} per customer; you already have {held}.");
            }
        }

        var order = new Order
        {
            Id = Guid.CreateVersion7(now),
            CampaignId = campaign.Id,
            MerchantId = campaign.MerchantId,
            CustomerId = actor.Id,
            Quantity = quantity,
            UnitPrice = campaign.Price,
            UnitFaceValue = campaign.FaceValue,
            Amount = checked(campaign.Price * quantity),
            Currency = campaign.Currency,
            IdempotencyKey = command.IdempotencyKey,
            Language = Languages.Normalize(command.Language ?? customerLanguage),
            Status = OrderStatus.PendingPayment,
            HoldsStock = true,
            ReservationExpiresAt = now + _options.ReservationTimeout,
            PaymentProvider = campaign.Price > 0 ? merchant.PaymentAccount!.Provider : null,
            CreatedAt = now,
        };
        db.Orders.Add(order);
        if (order.Amount == 0)
        {
            await IssueAsync(order, campaign, merchant, ct);
        }

        return order;
    }

    private async Task<Order> EnsureCheckoutAsync(Order order, CancellationToken cancellationToken)
    {
        if (order.Status != OrderStatus.PendingPayment || order.CheckoutUrl is not null || order.Amount == 0)
        {
            return order;
        }

        // One creation attempt per order: whoever sets CheckoutRequestedAt creates; everyone else waits for the outcome.
        var now = time.GetUtcNow();
        var claimed = await db.Orders.Where(o => o.Id == order.Id && o.Status == OrderStatus.PendingPayment && o.CheckoutRequestedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.CheckoutRequestedAt, now), cancellationToken);
        if (claimed == 0)
        {
            return await AwaitCheckoutAsync(order.Id, cancellationToken);
        }

        var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == order.CampaignId, cancellationToken);
        var customerEmail = await db.Customers.Where(c => c.Id == order.CustomerId).Select(c => c.Email).FirstOrDefaultAsync(cancellationToken);
        var (provider, credentials) = await ProviderForAsync(order.MerchantId, order.PaymentProvider!, cancellationToken);
        var purpose = string.Create(CultureInfo.InvariantCulture, $"{campaign.Localize(order.Language).Name} × {order.Quantity}");
        CheckoutSession session;
        try
        {
            session = await provider.CreateCheckoutAsync(
            new CheckoutRequest(
                order.Id,
                credentials,
                order.Total,
                purpose,
                order.Language,
                customerEmail,
                order.ReservationExpiresAt,
                RedirectUrl(_options.Checkout.SuccessUrl, order.Id),
                RedirectUrl(_options.Checkout.FailedUrl, order.Id),
                RedirectUrl(_options.Checkout.CancelUrl, order.Id)),
            cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The provider may or may not have made a checkout, and cannot always be asked which: never create a second
            // one for this order. The order fails and its stock returns; the customer orders again.
            await AbandonCheckoutAsync(order.Id, CancellationToken.None);
            LogCheckoutFailed(logger, order.Id, ex.Message);
            throw ex as ProviderException ?? new ProviderException(order.PaymentProvider!, "The payment page could not be created; please order again.", transient: true, innerException: ex);
        }

        var url = session.CheckoutUrl.ToString();
        await db.Orders.Where(o => o.Id == order.Id && o.CheckoutUrl == null)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.ProviderPaymentId, session.ProviderPaymentId).SetProperty(o => o.CheckoutUrl, url), cancellationToken);
        return await db.Orders.AsNoTracking().FirstAsync(o => o.Id == order.Id, cancellationToken);
    }

    /// <summary>Another request is creating this order's checkout: wait briefly for its outcome.</summary>
    private async Task<Order> AwaitCheckoutAsync(Guid orderId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var current = await db.Orders.AsNoTracking().FirstAsync(o => o.Id == orderId, cancellationToken);
            if (current.CheckoutUrl is not null || current.Status != OrderStatus.PendingPayment)
            {
                return current;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        throw new ConflictException("order.checkout_in_progress", "The payment page is still being created; retry shortly.");
    }

    private async Task AbandonCheckoutAsync(Guid orderId, CancellationToken cancellationToken) =>
        await db.InTransactionAsync(
            async ct =>
            {
                var order = await db.Orders.AsNoTracking().FirstAsync(o => o.Id == orderId, ct);
                var rows = await db.Orders
                    .Where(o => o.Id == orderId && o.Status == OrderStatus.PendingPayment && o.HoldsStock && o.CheckoutUrl == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, OrderStatus.Failed).SetProperty(o => o.HoldsStock, false).SetProperty(o => o.Version, o => o.Version + 1), ct);
                if (rows == 1)
                {
                    await ReleaseStockAsync(order.CampaignId, order.Quantity, ct);
                }
            },
            cancellationToken);

    private static Uri? RedirectUrl(string? template, Guid orderId) =>
        template is null ? null : new Uri(template.Replace("{orderId}", orderId.ToString(), StringComparison.Ordinal));

    private async Task<PaymentApplication> ApplyVerifiedReportAsync(Order stored, PaymentStatusReport report, CancellationToken cancellationToken)
    {
        if ((report.OrderId is { } reference && reference != stored.Id)
            || !string.Equals(report.ProviderPaymentId, stored.ProviderPaymentId, StringComparison.Ordinal))
        {
            LogReportRejected(logger, stored.Id, "reference");
            return PaymentApplication.Rejected;
        }

        if (report.Status is PaymentStatus.Confirmed && (report.Amount != stored.Amount || !string.Equals(report.Currency, stored.Currency, StringComparison.OrdinalIgnoreCase)))
        {
            LogReportRejected(logger, stored.Id, "amount or currency");
            return PaymentApplication.Rejected;
        }

        return report.Status switch
        {
            PaymentStatus.Confirmed => await ConfirmAsync(stored.Id, report.TransactionId, cancellationToken),
            PaymentStatus.Failed or PaymentStatus.Cancelled => await FailAsync(stored.Id, cancellationToken),
            _ => PaymentApplication.NoChange,
        };
    }

    private async Task<PaymentApplication> ConfirmAsync(Guid orderId, string? transactionId, CancellationToken cancellationToken)
    {
        var outcome = await db.InTransactionAsync(
            async ct =>
            {
                var order = await db.Orders.FirstAsync(o => o.Id == orderId, ct);
                if (order.Status is OrderStatus.Paid or OrderStatus.RefundPending or OrderStatus.Refunded)
                {
                    return PaymentApplication.NoChange;
                }

                var now = time.GetUtcNow();
                order.ProviderTransactionId = transactionId ?? order.ProviderTransactionId;
                if (!order.HoldsStock)
                {
                    // Paid after the reservation lapsed (or failed): take the stock again if any is left.
                    var rows = await db.Campaigns
                        .Where(c => c.Id == order.CampaignId && c.State != CampaignState.Cancelled && c.Reserved + order.Quantity <= c.Supply)
                        .ExecuteUpdateAsync(s => s.SetProperty(c => c.Reserved, c => c.Reserved + order.Quantity), ct);
                    if (rows == 0)
                    {
                        QueueRefund(order, "Paid after the reservation lapsed and the campaign had no stock left.", now);
                        return PaymentApplication.RefundQueued;
                    }

                    order.HoldsStock = true;
                }

                var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == order.CampaignId, ct);
                var merchant = await db.Merchants.AsNoTracking().FirstAsync(m => m.Id == order.MerchantId, ct);
                if (CampaignService.ComputeExpiry(campaign.ValidityKind, campaign.ValidUntil, campaign.ValidityDays, merchant.TimeZoneId, now) <= now)
                {
                    // Paid so late that the vouchers would already be expired: give the stock back and the money too.
                    order.HoldsStock = false;
                    await ReleaseStockAsync(order.CampaignId, order.Quantity, ct);
                    QueueRefund(order, "Paid after the vouchers' last valid day.", now);
                    return PaymentApplication.RefundQueued;
                }

                await IssueAsync(order, campaign, merchant, ct);
                return PaymentApplication.VouchersIssued;
            },
            cancellationToken);
        LogPaymentApplied(logger, orderId, outcome);
        return outcome;
    }

    private async Task<PaymentApplication> FailAsync(Guid orderId, CancellationToken cancellationToken)
    {
        var outcome = await db.InTransactionAsync(
            async ct =>
            {
                var order = await db.Orders.FirstAsync(o => o.Id == orderId, ct);
                if (order.Status != OrderStatus.PendingPayment)
                {
                    return PaymentApplication.NoChange;
                }

                order.Status = OrderStatus.Failed;
                if (order.HoldsStock)
                {
                    order.HoldsStock = false;
                    await ReleaseStockAsync(order.CampaignId, order.Quantity, ct);
                }

                return PaymentApplication.OrderFailed;
            },
            cancellationToken);
        LogPaymentApplied(logger, orderId, outcome);
        return outcome;
    }

    private void QueueRefund(Order order, string reason, DateTimeOffset now)
    {
        order.Status = OrderStatus.RefundPending;
        order.PaidAt = now;
        var refund = new Refund
        {
            Id = Guid.CreateVersion7(now),
            OrderId = order.Id,
            MerchantId = order.MerchantId,
            Amount = order.Amount,
            Currency = order.Currency,
            Reason = reason,
            Status = RefundStatus.Requested,
            CreatedAt = now,
        };
        db.Refunds.Add(refund);
        outbox.Refund(refund.Id, refund.OrderId);
    }

    private Task ReleaseStockAsync(Guid campaignId, int quantity, CancellationToken ct) =>
        db.Campaigns.Where(c => c.Id == campaignId).ExecuteUpdateAsync(s => s.SetProperty(c => c.Reserved, c => c.Reserved - quantity), ct);

    /// <summary>Marks the order paid and issues its vouchers, books the sale and queues ledger events and messages.</summary>
    private async Task IssueAsync(Order order, Campaign campaign, Merchant merchant, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        order.Status = OrderStatus.Paid;
        order.PaidAt = now;
        var expiresAt = CampaignService.ComputeExpiry(campaign.ValidityKind, campaign.ValidUntil, campaign.ValidityDays, merchant.TimeZoneId, now);
        var codes = new List<string>(order.Quantity);
        for (var i = 0; i < order.Quantity; i++)
        {
            var voucher = new Voucher
            {
                Id = Guid.CreateVersion7(now),
                CampaignId = order.CampaignId,
                MerchantId = order.MerchantId,
                OrderId = order.Id,
                OwnerId = order.CustomerId,
                Code = VoucherCode.Generate(),
                Kind = campaign.Kind,
                FaceValue = order.UnitFaceValue,
                PricePaid = order.UnitPrice,
                Balance = order.UnitFaceValue,
                Currency = order.Currency,
                Status = VoucherStatus.Active,
                IssuedAt = now,
                ExpiresAt = expiresAt,
            };
            db.Vouchers.Add(voucher);
            history.Record(voucher, VoucherActivityKind.Issued, Actor.System, voucher.FaceValue, order.Id, toOwner: order.CustomerId, campaignSupply: campaign.Supply);
            codes.Add(voucher.DisplayCode);
        }

        var quantity = order.Quantity;
        await db.Campaigns.Where(c => c.Id == order.CampaignId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Issued, c => c.Issued + quantity).SetProperty(c => c.TermsFrozenAt, c => c.TermsFrozenAt ?? now), ct);

        var face = checked(order.UnitFaceValue * order.Quantity);
        MerchantBooks.Post(db, order.MerchantId, JournalEntryKind.Sale, order.Id, order.Currency, now,
            (LedgerAccount.PaymentProviderFunds, order.Amount, 0),
            (LedgerAccount.SalesDiscount, face - order.Amount, 0),
            (LedgerAccount.VoucherLiability, 0, face));
        var platformFee = MerchantBooks.Fee(order.Amount, _options.Fees.PlatformBasisPoints, _options.Fees.PlatformFixed);
        var paymentFee = MerchantBooks.Fee(order.Amount, _options.Fees.PaymentBasisPoints, _options.Fees.PaymentFixed);
        MerchantBooks.Post(db, order.MerchantId, JournalEntryKind.Fee, order.Id, order.Currency, now,
            (LedgerAccount.Fees, platformFee + paymentFee, 0),
            (LedgerAccount.FeesPayable, 0, platformFee),
            (LedgerAccount.PaymentProviderFunds, 0, paymentFee));

        var customer = await db.Customers.AsNoTracking().FirstAsync(c => c.Id == order.CustomerId, ct);
        var name = campaign.Localize(order.Language).Name;
        outbox.Notify(new NotificationMessage(
            NotificationTypes.VoucherPurchased,
            new NotificationRecipient(customer.Id, customer.Email, customer.DisplayName),
            order.Language,
            new Dictionary<string, string>
            {
                ["campaignName"] = name,
                ["merchantName"] = merchant.Name,
                ["quantity"] = order.Quantity.ToString(CultureInfo.InvariantCulture),
                ["codes"] = string.Join(", ", codes),
                ["faceValue"] = new Money(order.UnitFaceValue, order.Currency).ToString(),
                ["amountPaid"] = order.Total.ToString(),
                ["expiresAt"] = NotificationFormat.Instant(expiresAt),
                ["expiresOn"] = NotificationFormat.Date(NotificationFormat.LastValidDay(expiresAt, merchant.TimeZoneId)),
                ["orderId"] = order.Id.ToString(),
                ["timeZone"] = merchant.TimeZoneId,
            },
            $"purchase:{order.Id:N}"));
        outbox.Notify(new NotificationMessage(
            NotificationTypes.MerchantSale,
            new NotificationRecipient(null, merchant.Email, merchant.Name),
            merchant.Language,
            new Dictionary<string, string>
            {
                ["merchantName"] = merchant.Name,
                ["campaignName"] = campaign.Localize(merchant.Language).Name,
                ["quantity"] = order.Quantity.ToString(CultureInfo.InvariantCulture),
                ["amountPaid"] = order.Total.ToString(),
                ["orderId"] = order.Id.ToString(),
            },
            $"sale:{order.Id:N}"));
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Order {OrderId} for campaign {CampaignId} × {Quantity}: {Status}")]
    private static partial void LogOrderPlaced(ILogger logger, Guid orderId, Guid campaignId, int quantity, OrderStatus status);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Payment of order {OrderId}: {Outcome}")]
    private static partial void LogPaymentApplied(ILogger logger, Guid orderId, PaymentApplication outcome);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Payment report for order {OrderId} refused: {What} does not match the order")]
    private static partial void LogReportRejected(ILogger logger, Guid orderId, string what);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Reservation of order {OrderId} lapsed; stock returned")]
    private static partial void LogReservationExpired(ILogger logger, Guid orderId);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Webhook from {Provider} names no known order (dedupe key {DedupeKey})")]
    private static partial void LogWebhookUnknown(ILogger logger, string provider, string dedupeKey);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Creating the checkout of order {OrderId} failed; the order fails and its stock returns: {Reason}")]
    private static partial void LogCheckoutFailed(ILogger logger, Guid orderId, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Polling the payment of order {OrderId} failed: {Reason}")]
    private static partial void LogPollFailed(ILogger logger, Guid orderId, string reason);
}

/// <summary>What became of a received webhook.</summary>
public enum WebhookReceipt
{
    /// <summary>Queued for verification.</summary>
    Queued = 0,

    /// <summary>The same delivery (same dedupe key) was received before.</summary>
    Duplicate = 1,

    /// <summary>The body names no payment.</summary>
    Ignored = 2,
}

/// <summary>Outbox payload: a webhook hint to verify.</summary>
/// <param name="Provider">Provider name.</param>
/// <param name="OrderId">Our order id, when the webhook named it.</param>
/// <param name="ProviderPaymentId">The provider's payment id, when the webhook named it.</param>
/// <param name="DedupeKey">The provider's dedupe key.</param>
public sealed record WebhookPayload(string Provider, Guid? OrderId, string? ProviderPaymentId, string DedupeKey);

/// <summary>Outbox payload: perform refund <paramref name="RefundId"/>.</summary>
/// <param name="RefundId">The refund.</param>
public sealed record RefundPayload(Guid RefundId);

/// <summary>Outbox payload: cancel an expired checkout.</summary>
/// <param name="OrderId">Order.</param>
/// <param name="MerchantId">Merchant (for credentials).</param>
/// <param name="Provider">Provider name.</param>
/// <param name="ProviderPaymentId">The checkout to cancel.</param>
public sealed record CancelCheckoutPayload(Guid OrderId, Guid MerchantId, string Provider, string ProviderPaymentId);
