using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OpenMavn.Core;
using OpenMavn.Core.Payments;
using OpenMavn.Samples.QrBillPayments.Bills;
using OpenMavn.Samples.QrBillPayments.Storage;

namespace OpenMavn.Samples.QrBillPayments.Tests;

/// <summary>The provider on its own, against a real SQLite file, as Core calls it.</summary>
public sealed class ProviderTests : IDisposable
{
    internal const string QrIban = "CH4431999123000889012";
    internal const string CreditorJson = """{"name":"Café Sonne","street":"Bahnhofstrasse","buildingNumber":"1","postalCode":"8001","town":"Zürich","country":"CH"}""";
    private static readonly PaymentAccountCredentials Account = new(QrIban, CreditorJson);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "qrbill-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    public ProviderTests() => Directory.CreateDirectory(_directory);

    private QrBillOptions Options => new() { ConnectionString = $"Data Source={Path.Combine(_directory, "qrbill.db")}", BillBaseUrl = "https://shop.example.ch/bills/" };

    private QrBillDatabase Database() => new(Microsoft.Extensions.Options.Options.Create(Options));

    private QrBillPaymentProvider Provider(QrBillDatabase? database = null) =>
        new(database ?? Database(), new Monitor(Options), _time, NullLogger<QrBillPaymentProvider>.Instance);

    private static CheckoutRequest Checkout(Guid orderId, long amount = 4500, string currency = "CHF", PaymentAccountCredentials? account = null) =>
        new(orderId, account ?? Account, new Money(amount, currency), "Kaffee-Gutschein × 1", "de", null, DateTimeOffset.UtcNow.AddHours(1), null, null, null);

    [Fact]
    public async Task The_same_order_gets_the_same_bill_and_reference_even_when_asked_concurrently()
    {
        var provider = Provider();
        var orderId = Guid.NewGuid();
        var sessions = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => provider.CreateCheckoutAsync(Checkout(orderId)))));
        var other = await provider.CreateCheckoutAsync(Checkout(Guid.NewGuid()));

        Assert.Single(sessions.Select(s => s.ProviderPaymentId).Distinct());
        Assert.NotEqual(sessions[0].ProviderPaymentId, other.ProviderPaymentId);
        Assert.Equal(new Uri("https://shop.example.ch/bills/" + sessions[0].ProviderPaymentId), sessions[0].CheckoutUrl);

        // A second provider over the same file (a restart) finds the bill again.
        var again = await Provider().CreateCheckoutAsync(Checkout(orderId));
        Assert.Equal(sessions[0].ProviderPaymentId, again.ProviderPaymentId);

        await using var db = await Database().OpenAsync(default);
        var bills = await db.Bills.AsNoTracking().OrderBy(b => b.Number).ToListAsync();
        Assert.Equal(2, bills.Count);
        Assert.All(bills, b => Assert.True(QrReference.IsValid(b.Reference)));
        Assert.Equal(QrReference.Create("", bills[0].Number), bills[0].Reference);
        Assert.Equal(bills[0].Reference, bills[0].Payload.Split('\n')[28]);
        Assert.Equal("45.00", bills[0].Payload.Split('\n')[18]);
    }

    [Fact]
    public async Task A_new_bill_reads_pending_with_its_amount_and_order()
    {
        var provider = Provider();
        var orderId = Guid.NewGuid();
        var session = await provider.CreateCheckoutAsync(Checkout(orderId, 9000));
        var report = await provider.GetPaymentAsync(Account, session.ProviderPaymentId);

        Assert.Equal(PaymentStatus.Pending, report.Status);
        Assert.Equal("open", report.RawStatus);
        Assert.Equal(9000, report.Amount);
        Assert.Equal("CHF", report.Currency);
        Assert.Equal(orderId, report.OrderId);
        Assert.Null(report.TransactionId);
        Assert.False(report.IsTest);

        // Another merchant's account does not see it, and an unknown id is an error, not a pending payment.
        var stranger = new PaymentAccountCredentials("LI8130123000000123456", CreditorJson);
        await Assert.ThrowsAsync<ProviderException>(() => provider.GetPaymentAsync(stranger, session.ProviderPaymentId));
        await Assert.ThrowsAsync<ProviderException>(() => provider.GetPaymentAsync(Account, "qrb_000000000000000000000000"));
    }

    [Theory]
    [InlineData("CH5800791123000889012", CreditorJson)] // an ordinary IBAN cannot take a QR reference
    [InlineData("CH4431999123000889013", CreditorJson)]
    [InlineData(QrIban, "secret")]
    [InlineData(QrIban, """{"name":"Café Sonne","postalCode":"8001","town":"Zürich","country":"Schweiz"}""")]
    public async Task Accounts_that_cannot_issue_QR_bills_are_refused(string accountId, string secret)
    {
        var provider = Provider();
        var account = new PaymentAccountCredentials(accountId, secret);
        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.VerifyAccountAsync(account));
        Assert.False(error.IsTransient);
        await Assert.ThrowsAsync<ProviderException>(() => provider.CreateCheckoutAsync(Checkout(Guid.NewGuid(), account: account)));
    }

    [Fact]
    public async Task A_spaced_QR_IBAN_passes_verification()
    {
        await Provider().VerifyAccountAsync(new PaymentAccountCredentials("CH44 3199 9123 0008 8901 2", CreditorJson));
    }

    [Theory]
    [InlineData(4500, "USD")]
    [InlineData(0, "CHF")]
    public async Task Only_positive_CHF_and_EUR_amounts_are_billed(long amount, string currency)
    {
        var error = await Assert.ThrowsAsync<ProviderException>(() => Provider().CreateCheckoutAsync(Checkout(Guid.NewGuid(), amount, currency)));
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Cancelling_is_idempotent_and_leaves_other_accounts_bills_alone()
    {
        var provider = Provider();
        var session = await provider.CreateCheckoutAsync(Checkout(Guid.NewGuid()));
        await provider.CancelCheckoutAsync(new PaymentAccountCredentials("LI8130123000000123456", CreditorJson), session.ProviderPaymentId);
        Assert.Equal(PaymentStatus.Pending, (await provider.GetPaymentAsync(Account, session.ProviderPaymentId)).Status);

        await provider.CancelCheckoutAsync(Account, session.ProviderPaymentId);
        await provider.CancelCheckoutAsync(Account, session.ProviderPaymentId);
        await provider.CancelCheckoutAsync(Account, "qrb_000000000000000000000000");
        Assert.Equal(PaymentStatus.Cancelled, (await provider.GetPaymentAsync(Account, session.ProviderPaymentId)).Status);
    }

    [Fact]
    public async Task Refunds_are_recorded_pending_once_per_refund_id_and_never_exceed_the_payment()
    {
        var database = Database();
        var provider = Provider(database);
        var session = await provider.CreateCheckoutAsync(Checkout(Guid.NewGuid(), 9000));
        var unpaid = await Assert.ThrowsAsync<ProviderException>(() => provider.RefundAsync(Refund(session, Guid.NewGuid(), 1000)));
        Assert.False(unpaid.IsTransient);
        await MarkPaidAsync(database, session.ProviderPaymentId);

        var first = Guid.NewGuid();
        var outcome = await provider.RefundAsync(Refund(session, first, 6000));
        var replay = await provider.RefundAsync(Refund(session, first, 6000));
        Assert.Equal(RefundStatus.Pending, outcome.Status);
        Assert.Equal(outcome, replay);
        Assert.Equal(PaymentStatus.RefundPending, (await provider.GetPaymentAsync(Account, session.ProviderPaymentId)).Status);

        // Side by side, only refunds that fit in what is left are recorded.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            try
            {
                await provider.RefundAsync(Refund(session, Guid.NewGuid(), 1000));
                return true;
            }
            catch (ProviderException)
            {
                return false;
            }
        })));
        Assert.Equal(3, attempts.Count(ok => ok));
        await using var db = await database.OpenAsync(default);
        Assert.Equal(9000, await db.Refunds.SumAsync(r => r.Amount));
        Assert.Equal(9000, (await db.Bills.SingleAsync()).RefundRecorded);
    }

    [Fact]
    public async Task Only_the_notification_of_a_paid_bill_is_a_hint()
    {
        var provider = Provider();
        var orderId = Guid.NewGuid();
        var body = QrBillPaymentProvider.Notification("qrb_0123456789abcdef01234567", orderId);
        var hint = await provider.ParseWebhookAsync(new PaymentWebhookRequest("application/json", body, new Dictionary<string, string>()));
        Assert.NotNull(hint);
        Assert.Equal("qrb_0123456789abcdef01234567", hint.ProviderPaymentId);
        Assert.Equal(orderId, hint.OrderId);
        Assert.Equal("qrb_0123456789abcdef01234567:qrbill.paid", hint.DedupeKey);

        foreach (var garbage in new[]
        {
            "", "null", "[]", "42", "{", "{}", """{"type":"qrbill.paid"}""", """{"type":"other","billId":"qrb_0123456789abcdef01234567"}""",
            """{"type":"qrbill.paid","billId":"qrb_../../etc"}""", """{"type":"qrbill.paid","billId":7}""",
            "{\"type\":\"qrbill.paid\",\"billId\":\"qrb_0123456789abcdef01234567\",\"pad\":\"" + new string('x', 5000) + "\"}",
        })
        {
            Assert.Null(await provider.ParseWebhookAsync(new PaymentWebhookRequest("application/json", Encoding.UTF8.GetBytes(garbage), new Dictionary<string, string>())));
        }
    }

    private static RefundRequest Refund(CheckoutSession session, Guid refundId, long amount) =>
        new(refundId, Account, session.ProviderPaymentId, null, new Money(amount, "CHF"), false);

    private static async Task MarkPaidAsync(QrBillDatabase database, string billId)
    {
        await using var db = await database.OpenAsync(default);
        await db.Bills.Where(b => b.Id == billId).ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, QrBillStatus.Paid).SetProperty(b => b.PaidAmount, b => b.Amount).SetProperty(b => b.BankReference, "TX-1"));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class Monitor(QrBillOptions value) : IOptionsMonitor<QrBillOptions>
    {
        public QrBillOptions CurrentValue => value;

        public QrBillOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<QrBillOptions, string?> listener) => null;
    }
}
