namespace OpenMavn.Core.Outbox;

/// <summary>
/// An external effect (ledger write, email, push, refund) written in the same transaction as the state change
/// that caused it, and delivered at least once by the <see cref="OutboxDispatcher"/>.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Monotonic identifier: delivery order within an <see cref="OrderingKey"/>.</summary>
    public long Id { get; internal set; }

    /// <summary>Handler type, e.g. <c>ledger.record</c>, <c>notification.email</c>, <c>payment.refund</c>.</summary>
    public string Type { get; internal set; } = "";

    /// <summary>JSON payload.</summary>
    public string Payload { get; internal set; } = "";

    /// <summary>Unique per effect; receivers deduplicate on it.</summary>
    public string DedupeKey { get; internal set; } = "";

    /// <summary>Messages with the same key are delivered one after another, in <see cref="Id"/> order.</summary>
    public string? OrderingKey { get; internal set; }

    /// <summary>Created.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>Not delivered before this instant (backoff, scheduled delivery).</summary>
    public DateTimeOffset AvailableAt { get; internal set; }

    /// <summary>Delivery attempts so far.</summary>
    public int Attempts { get; internal set; }

    /// <summary>The lease token of the dispatcher currently delivering it.</summary>
    public Guid? LeaseToken { get; internal set; }

    /// <summary>The lease lapses at this instant; another dispatcher may then take the message.</summary>
    public DateTimeOffset? LeaseUntil { get; internal set; }

    /// <summary>Delivered.</summary>
    public DateTimeOffset? ProcessedAt { get; internal set; }

    /// <summary>Given up on (permanent failure or too many attempts); visible to operators.</summary>
    public DateTimeOffset? FailedAt { get; internal set; }

    /// <summary>The last error.</summary>
    public string? LastError { get; internal set; }
}
