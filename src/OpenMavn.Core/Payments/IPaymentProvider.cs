namespace OpenMavn.Core.Payments;

/// <summary>
/// A payment gateway. Each merchant connects its own account, so the money lands with the merchant.
/// Core calls the provider outside database transactions and never trusts a webhook body: it re-reads the
/// payment with <see cref="GetPaymentAsync"/> and compares amount, currency and reference with what it stored.
/// </summary>
public interface IPaymentProvider
{
    /// <summary>Stable provider name (<c>sandbox</c>, <c>payrexx</c>), used in configuration and webhook URLs.</summary>
    string Name { get; }

    /// <summary>
    /// Whether payments the provider flags as test-mode (<see cref="PaymentStatusReport.IsTest"/>) may issue vouchers.
    /// A live deployment answers false, so a merchant account left in test mode cannot hand out real vouchers.
    /// </summary>
    bool AcceptsTestPayments { get; }

    /// <summary>Checks merchant credentials with the provider; throws <see cref="ProviderException"/> when refused.</summary>
    Task VerifyAccountAsync(PaymentAccountCredentials account, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates the hosted checkout for an order. Core calls this at most once per order (concurrent replays wait for
    /// the first call): when it throws, Core cannot know whether a checkout was made, so the order fails and its stock
    /// returns rather than a second checkout being created. Providers that can deduplicate by
    /// <see cref="CheckoutRequest.OrderId"/> should still do so.
    /// </summary>
    Task<CheckoutSession> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default);

    /// <summary>Reads a payment's authoritative state from the provider.</summary>
    Task<PaymentStatusReport> GetPaymentAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default);

    /// <summary>Cancels an unpaid checkout (the reservation expired). Succeeds when it is already gone.</summary>
    Task CancelCheckoutAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default);

    /// <summary>Refunds all or part of a payment; idempotent per <see cref="RefundRequest.RefundId"/>.</summary>
    Task<RefundOutcome> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Parses an incoming webhook into a hint naming the payment. Returns null for a body that names no payment.
    /// The hint is never trusted: Core verifies it with <see cref="GetPaymentAsync"/>.
    /// </summary>
    Task<PaymentWebhookHint?> ParseWebhookAsync(PaymentWebhookRequest request, CancellationToken cancellationToken = default);
}

/// <summary>A merchant's decrypted credentials, handed to a provider for one call. Never logged.</summary>
public sealed class PaymentAccountCredentials(string accountId, string secret)
{
    /// <summary>Provider-side account id (Payrexx instance name).</summary>
    public string AccountId { get; } = accountId;

    /// <summary>The API secret.</summary>
    public string Secret { get; } = secret;

    /// <summary>Shows the account id only.</summary>
    public override string ToString() => $"{AccountId} (secret redacted)";
}

/// <summary>Provider-neutral payment states.</summary>
public enum PaymentStatus
{
    /// <summary>Not paid yet (waiting, initiated, authorized but not captured, …).</summary>
    Pending = 0,

    /// <summary>Money collected.</summary>
    Confirmed = 1,

    /// <summary>Declined, errored or expired: nothing was collected.</summary>
    Failed = 2,

    /// <summary>Cancelled by the shopper.</summary>
    Cancelled = 3,

    /// <summary>Fully refunded.</summary>
    Refunded = 4,

    /// <summary>Partly refunded.</summary>
    PartiallyRefunded = 5,

    /// <summary>A refund is under way.</summary>
    RefundPending = 6,

    /// <summary>Charged back or disputed.</summary>
    Disputed = 7,

    /// <summary>A status the provider sent that we do not know; treated as pending.</summary>
    Unknown = 8,
}

/// <summary>What Core asks a provider for at checkout.</summary>
/// <param name="OrderId">Our order id: the provider's reference, and the idempotency key of the create.</param>
/// <param name="Account">The merchant's credentials.</param>
/// <param name="Amount">Total to pay.</param>
/// <param name="Purpose">Human text shown on the payment page (campaign and quantity, in the customer's language).</param>
/// <param name="Language">Customer language.</param>
/// <param name="CustomerEmail">Pre-filled email, if known.</param>
/// <param name="ExpiresAt">When the reservation lapses; the checkout should not outlive it.</param>
/// <param name="SuccessUrl">Redirect after success.</param>
/// <param name="FailedUrl">Redirect after failure.</param>
/// <param name="CancelUrl">Redirect after cancel.</param>
public sealed record CheckoutRequest(
    Guid OrderId,
    PaymentAccountCredentials Account,
    Money Amount,
    string Purpose,
    string Language,
    string? CustomerEmail,
    DateTimeOffset ExpiresAt,
    Uri? SuccessUrl,
    Uri? FailedUrl,
    Uri? CancelUrl);

/// <summary>A created checkout.</summary>
/// <param name="ProviderPaymentId">The provider's id for it (Payrexx gateway id).</param>
/// <param name="CheckoutUrl">Where the customer pays.</param>
public sealed record CheckoutSession(string ProviderPaymentId, Uri CheckoutUrl);

/// <summary>The provider's authoritative view of a payment.</summary>
/// <param name="ProviderPaymentId">Checkout/payment id.</param>
/// <param name="Status">Mapped status.</param>
/// <param name="RawStatus">The provider's own word, for logs.</param>
/// <param name="Amount">Amount collected or requested, minor units.</param>
/// <param name="Currency">Currency.</param>
/// <param name="OrderId">The reference we sent, as the provider reports it.</param>
/// <param name="TransactionId">The provider's transaction id (needed for refunds), once there is one.</param>
/// <param name="IsTest">True for a test-mode payment.</param>
public sealed record PaymentStatusReport(
    string ProviderPaymentId,
    PaymentStatus Status,
    string RawStatus,
    long Amount,
    string Currency,
    Guid? OrderId,
    string? TransactionId,
    bool IsTest);

/// <summary>A refund to perform.</summary>
/// <param name="RefundId">Our refund id (idempotency key).</param>
/// <param name="Account">Merchant credentials.</param>
/// <param name="ProviderPaymentId">Checkout/payment id.</param>
/// <param name="TransactionId">Provider transaction id when known.</param>
/// <param name="Amount">Amount to refund.</param>
/// <param name="IsFullRefund">True when the whole payment is refunded.</param>
/// <param name="AlreadyRefunded">
/// What earlier refunds of this payment returned (completed or pending). A provider without idempotency keys compares
/// it with what it has refunded so far: when that already covers this refund too, an earlier attempt whose answer was
/// lost did it, and it must not be sent again. Refunds of one payment reach the provider one at a time.
/// </param>
public sealed record RefundRequest(
    Guid RefundId,
    PaymentAccountCredentials Account,
    string ProviderPaymentId,
    string? TransactionId,
    Money Amount,
    bool IsFullRefund,
    Money? AlreadyRefunded = null);

/// <summary>What the provider said to a refund.</summary>
/// <param name="Status">Completed or pending.</param>
/// <param name="ProviderReference">The provider's reference.</param>
public sealed record RefundOutcome(RefundStatus Status, string? ProviderReference);

/// <summary>A raw webhook as received over HTTP.</summary>
/// <param name="ContentType">The Content-Type header.</param>
/// <param name="Body">The raw body.</param>
/// <param name="Headers">All headers (case-insensitive keys).</param>
public sealed record PaymentWebhookRequest(string? ContentType, ReadOnlyMemory<byte> Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>What a webhook claims; verified by Core before anything happens.</summary>
/// <param name="ProviderPaymentId">The checkout/payment id, when the body names it.</param>
/// <param name="OrderId">Our reference, when the body names it.</param>
/// <param name="DedupeKey">Deduplicates deliveries (Payrexx: transaction uuid + status).</param>
public sealed record PaymentWebhookHint(string? ProviderPaymentId, Guid? OrderId, string DedupeKey);
