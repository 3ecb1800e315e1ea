namespace OpenMavn.Core.Payments;

/// <summary>A checkout of the built-in sandbox provider, stored so that it survives restarts.</summary>
public sealed class SandboxPayment
{
    /// <summary>The sandbox payment id (<c>sbx_…</c>).</summary>
    public string Id { get; internal set; } = "";

    /// <summary>Our order id.</summary>
    public Guid OrderId { get; internal set; }

    /// <summary>Amount, minor units.</summary>
    public long Amount { get; internal set; }

    /// <summary>Currency.</summary>
    public string Currency { get; internal set; } = "";

    /// <summary>Status.</summary>
    public PaymentStatus Status { get; internal set; }

    /// <summary>Refunded so far, minor units.</summary>
    public long RefundedAmount { get; internal set; }

    /// <summary>Created.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }
}
