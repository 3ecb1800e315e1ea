using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Audit;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Persistence;

/// <summary>
/// The OpenMavn database: the unit of work of every use case. Entities with a <c>Version</c> property use it as
/// an optimistic concurrency token, bumped automatically on every update.
/// </summary>
public sealed class OpenMavnDbContext(DbContextOptions<OpenMavnDbContext> options)
    : IdentityDbContext<OpenMavnUser, IdentityRole<Guid>, Guid>(options), IDataProtectionKeyContext
{
    /// <summary>Merchants.</summary>
    public DbSet<Merchant> Merchants => Set<Merchant>();

    /// <summary>Merchant members.</summary>
    public DbSet<MerchantMember> MerchantMembers => Set<MerchantMember>();

    /// <summary>Connected payment accounts.</summary>
    public DbSet<MerchantPaymentAccount> MerchantPaymentAccounts => Set<MerchantPaymentAccount>();

    /// <summary>KYC review history.</summary>
    public DbSet<KycReview> KycReviews => Set<KycReview>();

    /// <summary>Customers.</summary>
    public DbSet<Customer> Customers => Set<Customer>();

    /// <summary>Campaigns.</summary>
    public DbSet<Campaign> Campaigns => Set<Campaign>();

    /// <summary>Orders.</summary>
    public DbSet<Order> Orders => Set<Order>();

    /// <summary>Vouchers.</summary>
    public DbSet<Voucher> Vouchers => Set<Voucher>();

    /// <summary>Voucher history (append-only).</summary>
    public DbSet<VoucherActivity> VoucherActivities => Set<VoucherActivity>();

    /// <summary>Redemptions.</summary>
    public DbSet<Redemption> Redemptions => Set<Redemption>();

    /// <summary>Gifts.</summary>
    public DbSet<Gift> Gifts => Set<Gift>();

    /// <summary>Exchange offers.</summary>
    public DbSet<ExchangeOffer> ExchangeOffers => Set<ExchangeOffer>();

    /// <summary>Refunds.</summary>
    public DbSet<Refund> Refunds => Set<Refund>();

    /// <summary>Merchant journal entries.</summary>
    public DbSet<JournalEntry> JournalEntries => Set<JournalEntry>();

    /// <summary>Merchant journal lines.</summary>
    public DbSet<JournalLine> JournalLines => Set<JournalLine>();

    /// <summary>Outbox.</summary>
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    /// <summary>The database ledger's hash chain.</summary>
    public DbSet<LedgerRecord> LedgerRecords => Set<LedgerRecord>();

    /// <summary>Ledger receipts per voucher event.</summary>
    public DbSet<LedgerReceipt> LedgerReceipts => Set<LedgerReceipt>();

    /// <summary>Reconciliations of the database with the ledger.</summary>
    public DbSet<LedgerReconciliationReport> LedgerReconciliationReports => Set<LedgerReconciliationReport>();

    /// <summary>Sandbox payment provider state.</summary>
    public DbSet<SandboxPayment> SandboxPayments => Set<SandboxPayment>();

    /// <summary>Sandbox payment provider refunds.</summary>
    public DbSet<SandboxRefund> SandboxRefunds => Set<SandboxRefund>();

    /// <summary>Merchant API keys (hashed).</summary>
    public DbSet<MerchantApiKey> MerchantApiKeys => Set<MerchantApiKey>();

    /// <summary>Customers' push devices.</summary>
    public DbSet<CustomerDevice> CustomerDevices => Set<CustomerDevice>();

    /// <summary>Requests kept for idempotent replay.</summary>
    public DbSet<IdempotentRequest> IdempotentRequests => Set<IdempotentRequest>();

    /// <summary>Operators' actions.</summary>
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    /// <summary>Campaign images.</summary>
    public DbSet<CampaignImage> CampaignImages => Set<CampaignImage>();

    /// <summary>Voucher events queued for chain ledgers.</summary>
    public DbSet<ChainLedgerEvent> ChainLedgerEvents => Set<ChainLedgerEvent>();

    /// <summary>Vouchers' keys on chain ledgers.</summary>
    public DbSet<ChainLedgerVoucher> ChainLedgerVouchers => Set<ChainLedgerVoucher>();

    /// <summary>Campaigns as chain ledgers record them.</summary>
    public DbSet<ChainLedgerCampaign> ChainLedgerCampaigns => Set<ChainLedgerCampaign>();

    /// <summary>Transactions chain ledgers signed (the nonce journal).</summary>
    public DbSet<ChainLedgerTransaction> ChainLedgerTransactions => Set<ChainLedgerTransaction>();

    /// <summary>Which host sends a chain ledger's transactions.</summary>
    public DbSet<ChainLedgerLease> ChainLedgerLeases => Set<ChainLedgerLease>();

    /// <summary>ASP.NET Core Data Protection keys (they encrypt payment credentials).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <inheritdoc />
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        BumpVersions();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    /// <inheritdoc />
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        BumpVersions();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <inheritdoc />
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        if (Database.IsSqlite())
        {
            // SQLite has no instant type: store UTC ticks so that comparisons and ordering are exact.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTicksConverter>();
        }

        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        base.OnModelCreating(modelBuilder);

        modelBuilder.Entity<Merchant>(b =>
        {
            b.HasKey(m => m.Id);
            b.Property(m => m.Name).HasMaxLength(200);
            b.Property(m => m.Email).HasMaxLength(320);
            b.Property(m => m.Country).HasMaxLength(2);
            b.Property(m => m.TimeZoneId).HasMaxLength(64);
            b.Property(m => m.Language).HasMaxLength(8);
            b.Property(m => m.KycComment).HasMaxLength(2000);
            b.Property(m => m.Address).HasMaxLength(300);
            b.Property(m => m.City).HasMaxLength(100);
            b.Property(m => m.SuspensionReason).HasMaxLength(500);
            b.Property(m => m.Version).IsConcurrencyToken();
            b.HasMany(m => m.Members).WithOne().HasForeignKey(m => m.MerchantId).OnDelete(DeleteBehavior.Cascade);
            b.HasOne(m => m.PaymentAccount).WithOne().HasForeignKey<MerchantPaymentAccount>(a => a.MerchantId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(m => m.KycStatus);
            b.HasIndex(m => new { m.DailySummary, m.TimeZoneId, m.LastSummaryOn });
        });
        modelBuilder.Entity<MerchantMember>(b =>
        {
            b.HasKey(m => new { m.MerchantId, m.UserId });
            b.Property(m => m.Email).HasMaxLength(320);
            b.HasIndex(m => m.UserId);
        });
        modelBuilder.Entity<MerchantPaymentAccount>(b =>
        {
            b.HasKey(a => a.MerchantId);
            b.Property(a => a.Provider).HasMaxLength(64);
            b.Property(a => a.AccountId).HasMaxLength(200);
            b.Property(a => a.ProtectedSecret).HasMaxLength(4000);
        });
        modelBuilder.Entity<KycReview>(b =>
        {
            b.HasKey(r => r.Id);
            b.Property(r => r.Comment).HasMaxLength(2000);
            b.Property(r => r.Actor).HasMaxLength(80);
            b.HasIndex(r => r.MerchantId);
        });
        modelBuilder.Entity<Customer>(b =>
        {
            b.HasKey(c => c.Id);
            b.Property(c => c.Email).HasMaxLength(320);
            b.Property(c => c.DisplayName).HasMaxLength(200);
            b.Property(c => c.Language).HasMaxLength(8);
            b.HasIndex(c => c.Email).IsUnique();
        });
        modelBuilder.Entity<Campaign>(b =>
        {
            b.HasKey(c => c.Id);
            b.Property(c => c.DefaultLanguage).HasMaxLength(8);
            b.Property(c => c.Currency).HasMaxLength(3);
            b.Property(c => c.Version).IsConcurrencyToken();
            b.HasMany(c => c.Translations).WithOne().HasForeignKey(t => t.CampaignId).OnDelete(DeleteBehavior.Cascade);
            b.HasOne<Merchant>().WithMany().HasForeignKey(c => c.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(c => new { c.MerchantId, c.State });
            b.HasIndex(c => c.State);
            b.Ignore(c => c.FaceValueMoney);
            b.Ignore(c => c.PriceMoney);
            b.Ignore(c => c.Available);
            b.ToTable(t => t.HasCheckConstraint("CK_Campaigns_Stock", "\"Reserved\" >= 0 AND \"Reserved\" <= \"Supply\""));
        });
        modelBuilder.Entity<CampaignTranslation>(b =>
        {
            b.HasKey(t => new { t.CampaignId, t.Language });
            b.Property(t => t.Language).HasMaxLength(8);
            b.Property(t => t.Name).HasMaxLength(200);
            b.Property(t => t.Description).HasMaxLength(4000);
            b.Property(t => t.ImageUrl).HasMaxLength(2000);
        });
        modelBuilder.Entity<Order>(b =>
        {
            b.HasKey(o => o.Id);
            b.Property(o => o.Currency).HasMaxLength(3);
            b.Property(o => o.IdempotencyKey).HasMaxLength(128);
            b.Property(o => o.Language).HasMaxLength(8);
            b.Property(o => o.PaymentProvider).HasMaxLength(64);
            b.Property(o => o.ProviderPaymentId).HasMaxLength(200);
            b.Property(o => o.ProviderTransactionId).HasMaxLength(200);
            b.Property(o => o.CheckoutUrl).HasMaxLength(2000);
            b.Property(o => o.Version).IsConcurrencyToken();
            b.Ignore(o => o.Total);
            b.HasOne<Campaign>().WithMany().HasForeignKey(o => o.CampaignId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(o => new { o.CustomerId, o.IdempotencyKey }).IsUnique();
            b.HasIndex(o => new { o.CampaignId, o.CustomerId });
            b.HasIndex(o => new { o.Status, o.ReservationExpiresAt });
            b.HasIndex(o => new { o.PaymentProvider, o.ProviderPaymentId });
            b.HasIndex(o => o.MerchantId);
        });
        modelBuilder.Entity<Voucher>(b =>
        {
            b.HasKey(v => v.Id);
            b.Property(v => v.Code).HasMaxLength(VoucherCode.Length);
            b.Property(v => v.Currency).HasMaxLength(3);
            b.Property(v => v.Version).IsConcurrencyToken();
            b.Ignore(v => v.BalanceMoney);
            b.Ignore(v => v.DisplayCode);
            b.HasOne<Campaign>().WithMany().HasForeignKey(v => v.CampaignId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<Order>().WithMany().HasForeignKey(v => v.OrderId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(v => v.Code).IsUnique();
            b.HasIndex(v => v.OwnerId);
            // Serves the expiry job (Status, ExpiresAt) and the reminder scan (RemindedDays read from the index).
            b.HasIndex(v => new { v.Status, v.ExpiresAt, v.RemindedDays });
            b.HasIndex(v => v.CampaignId);
            b.HasIndex(v => v.OrderId);
            b.HasIndex(v => v.MerchantId);
            b.ToTable(t => t.HasCheckConstraint("CK_Vouchers_Balance", "\"Balance\" >= 0 AND \"Balance\" <= \"FaceValue\""));
        });
        modelBuilder.Entity<VoucherActivity>(b =>
        {
            b.HasKey(a => a.Id);
            b.Property(a => a.Actor).HasMaxLength(80);
            b.HasOne<Voucher>().WithMany().HasForeignKey(a => a.VoucherId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(a => new { a.VoucherId, a.Id });
        });
        modelBuilder.Entity<Redemption>(b =>
        {
            b.HasKey(r => r.Id);
            b.Property(r => r.RedeemedBy).HasMaxLength(80);
            b.Property(r => r.Currency).HasMaxLength(3);
            b.Property(r => r.IdempotencyKey).HasMaxLength(128);
            b.Property(r => r.Version).IsConcurrencyToken();
            b.HasOne<Voucher>().WithMany().HasForeignKey(r => r.VoucherId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(r => new { r.MerchantId, r.IdempotencyKey }).IsUnique();
            b.HasIndex(r => new { r.MerchantId, r.At });
            b.HasIndex(r => r.VoucherId);
        });
        modelBuilder.Entity<Gift>(b =>
        {
            b.HasKey(g => g.Id);
            b.Property(g => g.RecipientEmail).HasMaxLength(320);
            b.Property(g => g.Message).HasMaxLength(1000);
            b.Property(g => g.ClaimTokenHash).HasMaxLength(64);
            b.Property(g => g.ProtectedClaimToken).HasMaxLength(1000);
            b.Property(g => g.Version).IsConcurrencyToken();
            b.HasOne<Voucher>().WithMany().HasForeignKey(g => g.VoucherId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(g => g.ClaimTokenHash).IsUnique();
            b.HasIndex(g => new { g.Status, g.DeliverAt });
            b.HasIndex(g => g.VoucherId);
            b.HasIndex(g => g.RecipientEmail);
        });
        modelBuilder.Entity<ExchangeOffer>(b =>
        {
            b.HasKey(o => o.Id);
            b.Property(o => o.CloseReason).HasMaxLength(200);
            b.Property(o => o.Version).IsConcurrencyToken();
            b.HasIndex(o => new { o.OfferedVoucherId, o.Status });
            b.HasIndex(o => new { o.RequestedVoucherId, o.Status });
            b.HasIndex(o => new { o.Status, o.ExpiresAt });
            b.HasIndex(o => o.CounterpartyId);
            b.HasIndex(o => o.RequestedCampaignId);
        });
        modelBuilder.Entity<Refund>(b =>
        {
            b.HasKey(r => r.Id);
            b.Property(r => r.Currency).HasMaxLength(3);
            b.Property(r => r.Reason).HasMaxLength(500);
            b.Property(r => r.ProviderReference).HasMaxLength(200);
            b.Property(r => r.LastError).HasMaxLength(2000);
            b.Property(r => r.Version).IsConcurrencyToken();
            b.HasIndex(r => r.OrderId);
            b.HasIndex(r => r.VoucherId);
        });
        modelBuilder.Entity<JournalEntry>(b =>
        {
            b.HasKey(e => e.Id);
            b.Property(e => e.DedupeKey).HasMaxLength(200);
            b.HasIndex(e => e.DedupeKey).IsUnique();
            b.HasIndex(e => new { e.MerchantId, e.At });
            b.HasMany(e => e.Lines).WithOne().HasForeignKey(l => l.EntryId).OnDelete(DeleteBehavior.Restrict);
        });
        modelBuilder.Entity<JournalLine>(b =>
        {
            b.HasKey(l => l.Id);
            b.Property(l => l.Currency).HasMaxLength(3);
            b.HasIndex(l => new { l.MerchantId, l.Currency, l.Account });
            b.ToTable(t => t.HasCheckConstraint("CK_JournalLines_Amounts", "\"Debit\" >= 0 AND \"Credit\" >= 0"));
        });
        modelBuilder.Entity<OutboxMessage>(b =>
        {
            b.HasKey(m => m.Id);
            b.Property(m => m.Type).HasMaxLength(100);
            b.Property(m => m.DedupeKey).HasMaxLength(200);
            b.Property(m => m.OrderingKey).HasMaxLength(100);
            b.Property(m => m.LastError).HasMaxLength(2000);
            b.HasIndex(m => m.DedupeKey).IsUnique();
            b.HasIndex(m => new { m.ProcessedAt, m.FailedAt, m.AvailableAt });
            b.HasIndex(m => new { m.OrderingKey, m.Id });
        });
        modelBuilder.Entity<LedgerRecord>(b =>
        {
            b.HasKey(r => r.Sequence);
            b.Property(r => r.Sequence).ValueGeneratedNever();
            b.Property(r => r.PreviousHash).HasMaxLength(64);
            b.Property(r => r.Hash).HasMaxLength(64);
            b.HasIndex(r => r.EventId).IsUnique();
            b.HasIndex(r => r.VoucherId);
        });
        modelBuilder.Entity<LedgerReceipt>(b =>
        {
            b.HasKey(r => r.EventId);
            b.Property(r => r.Ledger).HasMaxLength(64);
            b.Property(r => r.TransactionReference).HasMaxLength(200);
            b.HasIndex(r => r.VoucherId);
            b.HasIndex(r => r.Status);
        });
        modelBuilder.Entity<LedgerReconciliationReport>(b =>
        {
            b.HasKey(r => r.Id);
            b.Property(r => r.Id).ValueGeneratedNever();
            b.Property(r => r.Ledger).HasMaxLength(64);
            b.Property(r => r.Trigger).HasMaxLength(16);
            b.Property(r => r.Slot).HasMaxLength(64);
            b.Property(r => r.RunLock).HasMaxLength(16);
            b.Property(r => r.Error).HasMaxLength(2000);
            b.HasIndex(r => r.Slot).IsUnique();
            b.HasIndex(r => r.RunLock).IsUnique();
            b.HasIndex(r => r.StartedAt);
        });
        modelBuilder.Entity<ChainLedgerEvent>(b =>
        {
            b.HasKey(e => e.Id);
            b.Property(e => e.Ledger).HasMaxLength(64);
            b.Property(e => e.LastError).HasMaxLength(2000);
            b.HasIndex(e => new { e.Ledger, e.EventId }).IsUnique();
            b.HasIndex(e => new { e.Ledger, e.VoucherId, e.VoucherSeq }).IsUnique();
            b.HasIndex(e => new { e.Ledger, e.Status, e.Id });
            b.HasIndex(e => e.TransactionId);
        });
        modelBuilder.Entity<ChainLedgerVoucher>(b =>
        {
            b.HasKey(v => new { v.Ledger, v.VoucherId });
            b.Property(v => v.Ledger).HasMaxLength(64);
            b.HasIndex(v => new { v.Ledger, v.CampaignId, v.Serial }).IsUnique();
        });
        modelBuilder.Entity<ChainLedgerCampaign>(b =>
        {
            b.HasKey(c => new { c.Ledger, c.CampaignId });
            b.Property(c => c.Ledger).HasMaxLength(64);
        });
        modelBuilder.Entity<ChainLedgerTransaction>(b =>
        {
            b.HasKey(t => t.Id);
            b.Property(t => t.Ledger).HasMaxLength(64);
            b.Property(t => t.Account).HasMaxLength(42);
            b.Property(t => t.Hash).HasMaxLength(66);
            b.Property(t => t.MaxFeePerGas).HasMaxLength(80);
            b.Property(t => t.MaxPriorityFeePerGas).HasMaxLength(80);
            b.Property(t => t.BlockHash).HasMaxLength(66);
            b.Property(t => t.EffectiveGasPrice).HasMaxLength(80);
            b.Property(t => t.ContractAddress).HasMaxLength(42);
            b.Property(t => t.LastError).HasMaxLength(2000);
            b.HasIndex(t => new { t.Ledger, t.Account, t.Nonce }).IsUnique();
            b.HasIndex(t => new { t.Ledger, t.Status });
            b.HasIndex(t => t.Hash);
        });
        modelBuilder.Entity<ChainLedgerLease>(b =>
        {
            b.HasKey(l => l.Ledger);
            b.Property(l => l.Ledger).HasMaxLength(64);
            b.Property(l => l.Holder).HasMaxLength(100);
        });
        modelBuilder.Entity<SandboxPayment>(b =>
        {
            b.HasKey(p => p.Id);
            b.Property(p => p.Id).HasMaxLength(64);
            b.Property(p => p.Currency).HasMaxLength(3);
            b.HasIndex(p => p.OrderId).IsUnique();
        });
        modelBuilder.Entity<MerchantApiKey>(b =>
        {
            b.HasKey(k => k.Id);
            b.Property(k => k.Name).HasMaxLength(100);
            b.Property(k => k.SecretHash).HasMaxLength(64);
            b.HasOne<Merchant>().WithMany().HasForeignKey(k => k.MerchantId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(k => k.MerchantId);
        });
        modelBuilder.Entity<CustomerDevice>(b =>
        {
            b.HasKey(d => d.Id);
            b.Property(d => d.Token).HasMaxLength(512);
            b.Property(d => d.Platform).HasMaxLength(16);
            b.HasIndex(d => d.Token).IsUnique();
            b.HasIndex(d => d.CustomerId);
        });
        modelBuilder.Entity<IdempotentRequest>(b =>
        {
            b.HasKey(r => r.Id);
            b.Property(r => r.Scope).HasMaxLength(200);
            b.Property(r => r.Key).HasMaxLength(128);
            b.Property(r => r.RequestHash).HasMaxLength(64);
            b.HasIndex(r => new { r.Scope, r.Key }).IsUnique();
            b.HasIndex(r => r.CreatedAt);
        });
        modelBuilder.Entity<AuditEntry>(b =>
        {
            b.HasKey(a => a.Id);
            b.Property(a => a.Action).HasMaxLength(100);
            b.Property(a => a.Target).HasMaxLength(200);
            b.Property(a => a.Details).HasMaxLength(2000);
            b.HasIndex(a => a.At);
        });
        modelBuilder.Entity<CampaignImage>(b =>
        {
            b.HasKey(i => i.Id);
            b.Property(i => i.ContentType).HasMaxLength(32);
            b.HasOne<Campaign>().WithMany().HasForeignKey(i => i.CampaignId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(i => i.CampaignId);
        });
        modelBuilder.Entity<SandboxRefund>(b =>
        {
            b.HasKey(r => r.Id);
            b.Property(r => r.Id).HasMaxLength(64);
            b.Property(r => r.PaymentId).HasMaxLength(64);
        });
    }

    private void BumpVersions()
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.State != EntityState.Modified)
            {
                continue;
            }

            var version = entry.Metadata.FindProperty("Version");
            if (version is not null && version.IsConcurrencyToken)
            {
                var property = entry.Property("Version");
                property.CurrentValue = (long)property.OriginalValue! + 1;
            }
        }
    }

    private sealed class UtcTicksConverter() : ValueConverter<DateTimeOffset, long>(
        v => v.UtcTicks,
        v => new DateTimeOffset(v, TimeSpan.Zero));
}
