using Microsoft.EntityFrameworkCore;

namespace OpenMavn.Samples.QrBillPayments.Storage;

/// <summary>
/// The provider's own SQLite database: bills, received payments and refunds. It is not part of the OpenMavn database
/// (a provider written against the public packages cannot add tables to Core's model); its tables are created at
/// start-up when missing.
/// </summary>
internal sealed class QrBillDbContext(DbContextOptions<QrBillDbContext> options) : DbContext(options)
{
    public DbSet<QrBillRecord> Bills => Set<QrBillRecord>();

    public DbSet<QrBillReceiptRecord> Receipts => Set<QrBillReceiptRecord>();

    public DbSet<QrBillRefundRecord> Refunds => Set<QrBillRefundRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<QrBillRecord>(bill =>
        {
            bill.ToTable("qrbill_bills");
            bill.HasKey(b => b.Number);
            bill.Property(b => b.Number).ValueGeneratedOnAdd();
            bill.HasIndex(b => b.Id).IsUnique();
            bill.HasIndex(b => b.OrderId).IsUnique();
            bill.HasIndex(b => b.Reference).IsUnique();
            bill.HasIndex(b => b.NotifyCore);
            bill.Property(b => b.Id).HasMaxLength(40);
            bill.Property(b => b.CreditorIban).HasMaxLength(21);
            bill.Property(b => b.Reference).HasMaxLength(40);
            bill.Property(b => b.Currency).HasMaxLength(3);
        });
        modelBuilder.Entity<QrBillReceiptRecord>(receipt =>
        {
            receipt.ToTable("qrbill_receipts");
            receipt.HasKey(r => r.Id);
            receipt.Property(r => r.Id).ValueGeneratedOnAdd();
            receipt.HasIndex(r => new { r.CreditorIban, r.DedupeKey }).IsUnique();
            receipt.HasIndex(r => r.BillId);
        });
        modelBuilder.Entity<QrBillRefundRecord>(refund =>
        {
            refund.ToTable("qrbill_refunds");
            refund.HasKey(r => r.Id);
            refund.HasIndex(r => r.BillId);
        });
    }
}

/// <summary>Where a bill stands.</summary>
public enum QrBillStatus
{
    /// <summary>Waiting for the money (possibly partly paid).</summary>
    Open = 0,

    /// <summary>Payments cover the amount.</summary>
    Paid = 1,

    /// <summary>Cancelled unpaid (the order's reservation lapsed); later payments are reported for refund.</summary>
    Cancelled = 2,
}

internal sealed class QrBillRecord
{
    public long Number { get; set; }

    public string Id { get; set; } = "";

    public Guid OrderId { get; set; }

    public string CreditorIban { get; set; } = "";

    public string CreditorJson { get; set; } = "";

    public string Reference { get; set; } = "";

    public long Amount { get; set; }

    public string Currency { get; set; } = "";

    public string Purpose { get; set; } = "";

    public string Payload { get; set; } = "";

    public QrBillStatus Status { get; set; }

    /// <summary>Money applied to the bill (may exceed <see cref="Amount"/>: an overpayment).</summary>
    public long PaidAmount { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>The bank reference of the payment that covered the bill: the transaction id Core keeps.</summary>
    public string? BankReference { get; set; }

    public DateTimeOffset? CancelledAt { get; set; }

    /// <summary>Refunds recorded (pending and completed); never above <see cref="Amount"/>.</summary>
    public long RefundRecorded { get; set; }

    /// <summary>Refunds the merchant has executed.</summary>
    public long RefundCompleted { get; set; }

    /// <summary>Core has not yet been told about a change (set with the change, cleared once the hint is queued).</summary>
    public bool NotifyCore { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>What became of one received payment.</summary>
public enum QrBillReceiptOutcome
{
    /// <summary>Applied; the bill is still not covered.</summary>
    PartiallyPaid = 0,

    /// <summary>Applied; the bill is now paid.</summary>
    Paid = 1,

    /// <summary>Applied; the bill is paid and this payment brought more than was due: the excess is for the merchant to return.</summary>
    Overpaid = 2,

    /// <summary>The reference matches no bill of this account: kept for the merchant to sort out.</summary>
    UnknownReference = 3,

    /// <summary>The bill was cancelled (its order lapsed): not applied, to be returned by the merchant.</summary>
    PaidAfterCancellation = 4,

    /// <summary>The bill was already paid: not applied, to be returned by the merchant.</summary>
    PaidTwice = 5,

    /// <summary>The currency differs from the bill's: not applied, to be returned by the merchant.</summary>
    WrongCurrency = 6,

    /// <summary>The bank's record of a payment the merchant had already confirmed by hand: counted once.</summary>
    Reconciled = 7,
}

/// <summary>Where a receipt came from.</summary>
public enum QrBillReceiptSource
{
    /// <summary>A camt.054 bank notification.</summary>
    Camt054 = 0,

    /// <summary>Confirmed by the merchant by hand.</summary>
    Merchant = 1,
}

internal sealed class QrBillReceiptRecord
{
    public long Id { get; set; }

    public string CreditorIban { get; set; } = "";

    /// <summary>The bank's unique reference of the transaction (or of the merchant's confirmation): a second import of it counts once.</summary>
    public string DedupeKey { get; set; } = "";

    public QrBillReceiptSource Source { get; set; }

    public string? Reference { get; set; }

    public long Amount { get; set; }

    public string Currency { get; set; } = "";

    public string BankReference { get; set; } = "";

    public DateOnly? BookedOn { get; set; }

    public string? BillId { get; set; }

    public QrBillReceiptOutcome Outcome { get; set; }

    /// <summary>A merchant confirmation that a bank notification has since matched.</summary>
    public bool Reconciled { get; set; }

    public string? Note { get; set; }

    public string RecordedBy { get; set; } = "";

    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>Where a refund stands.</summary>
public enum QrBillRefundStatus
{
    /// <summary>Recorded; the merchant still has to transfer the money back.</summary>
    Pending = 0,

    /// <summary>The merchant marked it done.</summary>
    Completed = 1,
}

internal sealed class QrBillRefundRecord
{
    /// <summary>Core's refund id: the idempotency key.</summary>
    public Guid Id { get; set; }

    public string BillId { get; set; } = "";

    public long Amount { get; set; }

    public string Currency { get; set; } = "";

    public QrBillRefundStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public string? CompletedBy { get; set; }
}
