namespace OpenMavn.Core.Audit;

/// <summary>One action of a platform operator, kept for audit. Append-only.</summary>
public sealed class AuditEntry
{
    /// <summary>Identifier.</summary>
    public long Id { get; set; }

    /// <summary>The operator.</summary>
    public Guid ActorId { get; set; }

    /// <summary>What was done ("merchant.approve", "voucher.refund", …).</summary>
    public string Action { get; set; } = "";

    /// <summary>The object acted on.</summary>
    public string Target { get; set; } = "";

    /// <summary>Details (comment, reason; never a secret).</summary>
    public string? Details { get; set; }

    /// <summary>HTTP status of the outcome.</summary>
    public int Outcome { get; set; }

    /// <summary>When.</summary>
    public DateTimeOffset At { get; set; }
}
