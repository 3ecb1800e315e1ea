namespace OpenMavn.Core.Customers;

/// <summary>A person who buys, holds, gifts and exchanges vouchers. The id is the identity system's user id.</summary>
public sealed class Customer
{
    /// <summary>User id.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Normalized (trimmed, lower-case) email.</summary>
    public string Email { get; internal set; } = "";

    /// <summary>Display name.</summary>
    public string? DisplayName { get; internal set; }

    /// <summary>Preferred language (en, de, fr, it, …).</summary>
    public string Language { get; internal set; } = "en";

    /// <summary>Wants expiry reminders (receipts are always sent).</summary>
    public bool ExpiryReminders { get; internal set; } = true;

    /// <summary>When the customer was first seen.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }
}

/// <summary>A device that receives push notifications for a customer.</summary>
public sealed class CustomerDevice
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Customer (user id).</summary>
    public Guid CustomerId { get; internal set; }

    /// <summary>The push token (FCM registration token).</summary>
    public string Token { get; internal set; } = "";

    /// <summary>ios, android or web.</summary>
    public string Platform { get; internal set; } = "";

    /// <summary>Registered.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }
}
