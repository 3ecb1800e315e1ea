namespace OpenMavn.Core.Orders;

/// <summary>Where an order stands.</summary>
public enum OrderStatus
{
    /// <summary>Stock reserved; waiting for the payment.</summary>
    PendingPayment = 0,

    /// <summary>Paid; vouchers issued.</summary>
    Paid = 1,

    /// <summary>The reservation ran out before payment; stock returned.</summary>
    Expired = 2,

    /// <summary>The payment failed or was cancelled; stock returned.</summary>
    Failed = 3,

    /// <summary>Paid too late and nothing was left: the payment is being refunded.</summary>
    RefundPending = 4,

    /// <summary>Paid too late and refunded.</summary>
    Refunded = 5,
}

/// <summary>A customer's purchase of vouchers from one campaign.</summary>
public sealed class Order
{
    /// <summary>Identifier; also the payment reference sent to the provider.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Campaign.</summary>
    public Guid CampaignId { get; internal set; }

    /// <summary>Merchant (denormalized for tenancy filters).</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>Customer.</summary>
    public Guid CustomerId { get; internal set; }

    /// <summary>Number of vouchers.</summary>
    public int Quantity { get; internal set; }

    /// <summary>Price of one voucher at ordering time, minor units.</summary>
    public long UnitPrice { get; internal set; }

    /// <summary>Face value of one voucher at ordering time, minor units.</summary>
    public long UnitFaceValue { get; internal set; }

    /// <summary>Total to pay, minor units.</summary>
    public long Amount { get; internal set; }

    /// <summary>ISO 4217 currency.</summary>
    public string Currency { get; internal set; } = "";

    /// <summary>The customer's idempotency key (unique per customer).</summary>
    public string IdempotencyKey { get; internal set; } = "";

    /// <summary>Language for the checkout page and messages.</summary>
    public string Language { get; internal set; } = "en";

    /// <summary>Status.</summary>
    public OrderStatus Status { get; internal set; }

    /// <summary>True while this order holds units of the campaign's stock.</summary>
    public bool HoldsStock { get; internal set; }

    /// <summary>When an unpaid reservation lapses.</summary>
    public DateTimeOffset ReservationExpiresAt { get; internal set; }

    /// <summary>Payment provider name (null for free orders).</summary>
    public string? PaymentProvider { get; internal set; }

    /// <summary>The provider's checkout/payment id, stored before the link is handed out.</summary>
    public string? ProviderPaymentId { get; internal set; }

    /// <summary>
    /// When the one attempt to create this order's checkout started. A provider cannot always say whether a failed
    /// create made a checkout (Payrexx has no lookup by reference), so a checkout is never created twice for one order.
    /// </summary>
    public DateTimeOffset? CheckoutRequestedAt { get; internal set; }

    /// <summary>Where the customer pays.</summary>
    public string? CheckoutUrl { get; internal set; }

    /// <summary>The provider's transaction id once paid (used for refunds).</summary>
    public string? ProviderTransactionId { get; internal set; }

    /// <summary>Last time the provider was asked about this order (polling fallback).</summary>
    public DateTimeOffset? LastStatusCheckAt { get; internal set; }

    /// <summary>When the payment was confirmed.</summary>
    public DateTimeOffset? PaidAt { get; internal set; }

    /// <summary>Created.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>Optimistic concurrency token.</summary>
    public long Version { get; internal set; }

    /// <summary>Total as money.</summary>
    public Money Total => new(Amount, Currency);
}
