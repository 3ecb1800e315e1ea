using Microsoft.Extensions.Options;

namespace OpenMavn.Core;

/// <summary>Options of the OpenMavn core, bound from the <c>OpenMavn</c> configuration section.</summary>
public sealed class OpenMavnOptions
{
    /// <summary>How long an unpaid order holds its stock. Default 15 minutes.</summary>
    public TimeSpan ReservationTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long after a redemption the same merchant may reverse it. Default 15 minutes.</summary>
    public TimeSpan RedemptionReversalWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long an exchange offer stays open. Default 7 days.</summary>
    public TimeSpan ExchangeOfferLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Most vouchers in one order. Default 50.</summary>
    public int MaxOrderQuantity { get; set; } = 50;

    /// <summary>Link in gift emails; <c>{token}</c> is replaced by the one-time claim token.</summary>
    public string GiftClaimUrl { get; set; } = "https://localhost/gifts/claim?token={token}";

    /// <summary>Fees charged on each sale.</summary>
    public FeeOptions Fees { get; set; } = new();

    /// <summary>Redirects after checkout; <c>{orderId}</c> is replaced.</summary>
    public CheckoutOptions Checkout { get; set; } = new();

    /// <summary>Outbox delivery.</summary>
    public OutboxOptions Outbox { get; set; } = new();

    /// <summary>Background jobs.</summary>
    public JobOptions Jobs { get; set; } = new();

    /// <summary>Scheduled notifications (expiry reminders).</summary>
    public NotificationOptions Notifications { get; set; } = new();

    /// <summary>Ledger receipts and reconciliation, bound from <c>OpenMavn:Ledger</c>.</summary>
    public LedgerOptions Ledger { get; set; } = new();
}

/// <summary>Ledger receipts and reconciliation, bound from <c>OpenMavn:Ledger</c>.</summary>
public sealed class LedgerOptions
{
    /// <summary>
    /// How often the background service reconciles the database with the ledger (once per period, periods aligned to
    /// UTC midnight when the interval divides a day; one host runs it). Between 1 minute and 30 days; default 24 hours.
    /// </summary>
    public TimeSpan ReconciliationInterval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// A voucher event the ledger has not made final after this long is reported as stuck by a reconciliation
    /// (younger ones count as in flight). Between 1 minute and 30 days; default 1 hour.
    /// </summary>
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Scheduled notifications, bound from <c>OpenMavn:Notifications</c>.</summary>
public sealed class NotificationOptions
{
    /// <summary>
    /// Days before a voucher's expiry at which its owner is reminded (each 1..365), e.g. <c>[14, 3]</c> (the default):
    /// one reminder per voucher and value. An empty list turns reminders off. Configuration replaces the default
    /// list as a whole.
    /// </summary>
    public IList<int> ExpiryReminderDays { get; set; } = [14, 3];
}

/// <summary>Platform and payment fees on a sale (integers: basis points and minor units; 0 = none).</summary>
public sealed class FeeOptions
{
    /// <summary>Platform fee in basis points of the order amount (100 = 1 %).</summary>
    public int PlatformBasisPoints { get; set; }

    /// <summary>Fixed platform fee per paid order, minor units of the order's currency.</summary>
    public long PlatformFixed { get; set; }

    /// <summary>Payment provider fee in basis points, kept by the provider.</summary>
    public int PaymentBasisPoints { get; set; }

    /// <summary>Fixed payment provider fee per paid order, minor units.</summary>
    public long PaymentFixed { get; set; }
}

/// <summary>Where the payment page sends the customer back to.</summary>
public sealed class CheckoutOptions
{
    /// <summary>After success.</summary>
    public string? SuccessUrl { get; set; }

    /// <summary>After failure.</summary>
    public string? FailedUrl { get; set; }

    /// <summary>After cancel.</summary>
    public string? CancelUrl { get; set; }
}

/// <summary>Outbox delivery settings.</summary>
public sealed class OutboxOptions
{
    /// <summary>Messages claimed per round. Default 50.</summary>
    public int BatchSize { get; set; } = 50;

    /// <summary>Attempts before a message is marked failed (visible to operators). Default 15.</summary>
    public int MaxAttempts { get; set; } = 15;

    /// <summary>First retry delay; doubles per attempt. Default 2 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest retry delay. Default 1 hour.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a dispatcher owns claimed messages. Default 2 minutes.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Pause between rounds when idle. Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Background job settings.</summary>
public sealed class JobOptions
{
    /// <summary>Run the jobs (expiry, outbox, polling) in this host. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Pause between job rounds. Default 30 s.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Orders with no confirmation after this long are checked with the provider. Default 5 minutes.</summary>
    public TimeSpan PaymentPollDelay { get; set; } = TimeSpan.FromMinutes(5);
}

internal sealed class OpenMavnOptionsValidator : IValidateOptions<OpenMavnOptions>
{
    public ValidateOptionsResult Validate(string? name, OpenMavnOptions options)
    {
        var failures = new List<string>();
        void Check(bool bad, string message)
        {
            if (bad)
            {
                failures.Add(message);
            }
        }

        Check(options.ReservationTimeout < TimeSpan.FromMinutes(1) || options.ReservationTimeout > TimeSpan.FromDays(1), "OpenMavn:ReservationTimeout must be between 1 minute and 1 day.");
        Check(options.RedemptionReversalWindow < TimeSpan.Zero || options.RedemptionReversalWindow > TimeSpan.FromDays(7), "OpenMavn:RedemptionReversalWindow must be between 0 and 7 days.");
        Check(options.ExchangeOfferLifetime < TimeSpan.FromMinutes(1) || options.ExchangeOfferLifetime > TimeSpan.FromDays(90), "OpenMavn:ExchangeOfferLifetime must be between 1 minute and 90 days.");
        Check(options.MaxOrderQuantity is < 1 or > 1000, "OpenMavn:MaxOrderQuantity must be between 1 and 1000.");
        Check(!options.GiftClaimUrl.Contains("{token}", StringComparison.Ordinal), "OpenMavn:GiftClaimUrl must contain {token}.");
        Check(options.Fees.PlatformBasisPoints is < 0 or > 10_000, "OpenMavn:Fees:PlatformBasisPoints must be between 0 and 10000.");
        Check(options.Fees.PaymentBasisPoints is < 0 or > 10_000, "OpenMavn:Fees:PaymentBasisPoints must be between 0 and 10000.");
        Check(options.Fees.PlatformFixed < 0 || options.Fees.PaymentFixed < 0, "OpenMavn:Fees fixed fees must not be negative.");
        foreach (var (key, url) in new[] { ("SuccessUrl", options.Checkout.SuccessUrl), ("FailedUrl", options.Checkout.FailedUrl), ("CancelUrl", options.Checkout.CancelUrl) })
        {
            // On Linux and macOS "/orders/…" parses as an absolute file:// URI: a root-relative path is not a redirect.
            Check(url is not null && !(Uri.TryCreate(url.Replace("{orderId}", Guid.Empty.ToString(), StringComparison.Ordinal), UriKind.Absolute, out var uri) && !uri.IsFile), $"OpenMavn:Checkout:{key} must be an absolute URL.");
        }

        Check(options.Outbox.BatchSize is < 1 or > 1000, "OpenMavn:Outbox:BatchSize must be between 1 and 1000.");
        Check(options.Outbox.MaxAttempts is < 1 or > 100, "OpenMavn:Outbox:MaxAttempts must be between 1 and 100.");
        Check(options.Outbox.RetryBaseDelay <= TimeSpan.Zero || options.Outbox.RetryMaxDelay < options.Outbox.RetryBaseDelay, "OpenMavn:Outbox retry delays must be positive and RetryMaxDelay ≥ RetryBaseDelay.");
        Check(options.Outbox.LeaseDuration < TimeSpan.FromSeconds(5), "OpenMavn:Outbox:LeaseDuration must be at least 5 seconds.");
        Check(options.Outbox.PollInterval <= TimeSpan.Zero, "OpenMavn:Outbox:PollInterval must be positive.");
        Check(options.Jobs.Interval <= TimeSpan.Zero, "OpenMavn:Jobs:Interval must be positive.");
        Check(options.Jobs.PaymentPollDelay < TimeSpan.Zero, "OpenMavn:Jobs:PaymentPollDelay must not be negative.");
        Check(options.Notifications.ExpiryReminderDays is null || options.Notifications.ExpiryReminderDays.Any(d => d is < 1 or > 365), "OpenMavn:Notifications:ExpiryReminderDays must be a list of days between 1 and 365 (empty turns reminders off).");
        Check(options.Ledger.ReconciliationInterval < TimeSpan.FromMinutes(1) || options.Ledger.ReconciliationInterval > TimeSpan.FromDays(30), "OpenMavn:Ledger:ReconciliationInterval must be between 1 minute and 30 days.");
        Check(options.Ledger.StuckAfter < TimeSpan.FromMinutes(1) || options.Ledger.StuckAfter > TimeSpan.FromDays(30), "OpenMavn:Ledger:StuckAfter must be between 1 minute and 30 days.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
