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

    /// <summary>When the customer was first seen.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }
}
