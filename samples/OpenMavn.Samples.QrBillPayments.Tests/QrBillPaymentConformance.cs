using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Payments;
using OpenMavn.Samples.QrBillPayments.Storage;
using OpenMavn.Testing.Payments;

namespace OpenMavn.Samples.QrBillPayments.Tests;

/// <summary>
/// The QR-bill provider runs the payment conformance kit, registered the way a host registers it
/// (<c>AddOpenMavn().AddSqliteStorage().AddQrBillPayments()</c>, both databases temporary SQLite files).
/// </summary>
/// <remarks>
/// <para>
/// <b>Paying.</b> There is no payment page to drive: the customer pays by bank transfer and the merchant's bank reports
/// it in a camt.054 notification, which the merchant imports through the provider's public
/// <see cref="QrBillService.ImportCamt054Async"/>. That call needs a Core merchant (it checks the actor's role and reads
/// the merchant's QR-IBAN), so each test registers, approves and connects one through Core's public
/// <see cref="MerchantService"/>. No Core order is needed: the import marks the bill paid and hands Core the
/// notification (<see cref="Core.Orders.PurchaseService.QueueWebhookAsync"/>), which only queues it (jobs are off, and
/// no order exists for the kit's checkouts anyway). A bank transfer is never a test payment.
/// </para>
/// <para>
/// <b>Webhooks.</b> The notification the import raises, <c>{"type":"qrbill.paid","billId":…,"orderId":…}</c>, is a
/// webhook in the kit's sense: Core parses it with <see cref="IPaymentProvider.ParseWebhookAsync"/> exactly as it parses
/// a POST to <c>/webhooks/payments/qrbill</c> (which anyone may send), queues the hint under its dedupe key and verifies
/// it with <see cref="IPaymentProvider.GetPaymentAsync"/>. But it exists for one event only, "the bill is paid":
/// nothing is ever raised for a pending, partly paid, cancelled or refunded bill (Core learns of refunds by polling).
/// So <see cref="WebhookForAsync"/> builds it for <see cref="PaymentStatus.Confirmed"/> (also for an unpaid bill: the
/// kit's forgery, built as <c>QrBillService.NotifyCoreAsync</c> builds it) and answers null for every other status.
/// The kit's checks that need a Pending webhook (another status has another dedupe key; garbage bodies, which take the
/// Pending webhook as the "real" one) therefore return early; <c>ProviderTests.Only_the_notification_of_a_paid_bill_is_a_hint</c>
/// covers garbage bodies for this provider.
/// </para>
/// </remarks>
public sealed class QrBillPaymentConformance : PaymentProviderConformanceTests
{
    private const string QrIban = "CH4431999123000889012";
    private const string BillBaseUrl = "http://127.0.0.1/qrbill/bills/";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "qrbill-conformance", Guid.NewGuid().ToString("N"));
    private ServiceProvider? _services;
    private Actor _owner = Actor.System;
    private Guid _merchantId;

    protected override PaymentAccountCredentials Account { get; } = new(QrIban, ProviderTests.CreditorJson);

    /// <summary>The same QR-IBAN with a wrong check digit: mod-97 fails.</summary>
    protected override PaymentAccountCredentials RefusedAccount { get; } = new("CH4431999123000889013", ProviderTests.CreditorJson);

    /// <summary>
    /// False: a bank transfer cannot be declined. A bill is only ever open, paid or cancelled (by Core, covered by
    /// the cancellation tests).
    /// </summary>
    protected override bool SupportsDecline => false;

    /// <summary>True: a unique index on the order id, so the same order always gets the same bill.</summary>
    protected override bool DeduplicatesCheckoutsByOrderId => true;

    /// <summary>True: refunds of part of a bill are recorded, as long as they add up to no more than the bill.</summary>
    protected override bool SupportsPartialRefunds => true;

    protected override string UnknownPaymentId => "qrb_000000000000000000000000";

    protected override IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations =>
    [
        ("ConnectionString", b => b.AddQrBillPayments(o => o.ConnectionString = "Data Source=")),
        ("ConnectionString", b => b.AddQrBillPayments(o => o.ConnectionString = "not a connection string")),
        ("BillBaseUrl", b => b.AddQrBillPayments(o => o.BillBaseUrl = "/qrbill/bills/")),
        ("BillBaseUrl", b => b.AddQrBillPayments(o => o.BillBaseUrl = "ftp://127.0.0.1/qrbill/bills/")),
        ("BillBaseUrl", b => b.AddQrBillPayments(o => o.BillBaseUrl = "http://127.0.0.1/qrbill/bills")),
        ("ReferencePrefix", b => b.AddQrBillPayments(o => o.ReferencePrefix = "12a")),
        ("ReferencePrefix", b => b.AddQrBillPayments(o => o.ReferencePrefix = "12345678901")),
        ("MaxImportBytes", b => b.AddQrBillPayments(o => o.MaxImportBytes = 0)),
    ];

    protected override Action<IOpenMavnBuilder>? ValidConfiguration => b => b.AddQrBillPayments(o =>
    {
        o.ConnectionString = $"Data Source={Path.Combine(_directory, "valid.db")}";
        o.BillBaseUrl = BillBaseUrl;
    });

    protected override async Task<IPaymentProvider> CreateProviderAsync()
    {
        Directory.CreateDirectory(_directory);
        var services = new ServiceCollection();
        services.AddOpenMavn(o => o.Jobs.Enabled = false)
            .AddSqliteStorage($"Data Source={Path.Combine(_directory, "openmavn.db")}")
            .AddQrBillPayments(o =>
            {
                o.ConnectionString = $"Data Source={Path.Combine(_directory, "qrbill.db")}";
                o.BillBaseUrl = BillBaseUrl;
            });
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        await _services.MigrateOpenMavnDatabaseAsync();

        // The SME registers, is approved and connects its QR-IBAN with its address as the account's JSON "secret".
        _owner = Actor.Member(Guid.NewGuid());
        await using var scope = _services.CreateAsyncScope();
        var merchants = scope.ServiceProvider.GetRequiredService<MerchantService>();
        var merchant = await merchants.RegisterAsync(_owner, new RegisterMerchant("Café Sonne", "hallo@sonne.example.ch", "CH", "Europe/Zurich", "de"));
        await merchants.SubmitForReviewAsync(_owner, merchant.Id);
        await merchants.ApproveAsync(Actor.Admin(Guid.NewGuid()), merchant.Id);
        await merchants.ConnectPaymentAccountAsync(_owner, merchant.Id, QrBillPaymentProvider.ProviderName, Account.AccountId, Account.Secret);
        _merchantId = merchant.Id;

        return _services.GetServices<IPaymentProvider>().Single(p => p.Name == QrBillPaymentProvider.ProviderName);
    }

    protected override async Task CleanUpAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Already gone, or a file still held open: a temporary directory left behind.
        }
    }

    /// <summary>
    /// The customer transfers the bill's amount with its QR reference; the bank's camt.054 credit notification is
    /// imported by the merchant. Returns false: a bank transfer is never a test payment.
    /// </summary>
    protected override async Task<bool> PayAsync(CheckoutRequest request, CheckoutSession session)
    {
        var bill = await BillAsync(session);
        var amount = (request.Amount.Amount / 100m).ToString("0.00", CultureInfo.InvariantCulture);
        var transaction = "TX-" + Guid.NewGuid().ToString("N");
        var camt = $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
              <BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>MSG-{Guid.NewGuid():N}</MsgId></GrpHdr>
                <Ntfctn><Id>N1</Id><Acct><Id><IBAN>{QrIban}</IBAN></Id></Acct>
                  <Ntry><Amt Ccy="{request.Amount.Currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>E-{transaction}</AcctSvcrRef>
                    <NtryDtls><TxDtls><Refs><AcctSvcrRef>{transaction}</AcctSvcrRef></Refs><Amt Ccy="{request.Amount.Currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
                      <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp><Ref>{bill.Reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
                </Ntfctn>
              </BkToCstmrDbtCdtNtfctn>
            </Document>
            """;
        await using var scope = _services!.CreateAsyncScope();
        var report = await scope.ServiceProvider.GetRequiredService<QrBillService>()
            .ImportCamt054Async(_owner, _merchantId, new MemoryStream(Encoding.UTF8.GetBytes(camt)));
        Assert.Equal(QrBillReceiptOutcome.Paid, Assert.Single(report.Lines).Outcome);
        return false;
    }

    /// <summary>
    /// The paid notification for <see cref="PaymentStatus.Confirmed"/>, built as the import builds it; null for every
    /// other status, for which this provider raises nothing (see the class remarks).
    /// </summary>
    protected override async Task<PaymentWebhookRequest?> WebhookForAsync(CheckoutSession session, PaymentStatus status)
    {
        if (status != PaymentStatus.Confirmed)
        {
            return null;
        }

        var bill = await BillAsync(session);
        return new PaymentWebhookRequest(
            "application/json",
            QrBillPaymentProvider.Notification(bill.Id, bill.OrderId),
            new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = "application/json" });
    }

    /// <summary>Counts the rows of the provider's bill table for the order.</summary>
    protected override async Task<int?> CountCheckoutsAsync(Guid orderId)
    {
        await using var db = await _services!.GetRequiredService<QrBillDatabase>().OpenAsync(default);
        return await db.Bills.CountAsync(b => b.OrderId == orderId);
    }

    private async Task<QrBillView> BillAsync(CheckoutSession session)
    {
        await using var scope = _services!.CreateAsyncScope();
        var bill = await scope.ServiceProvider.GetRequiredService<QrBillService>().GetBillAsync(session.ProviderPaymentId);
        Assert.True(bill is not null, $"Bill {session.ProviderPaymentId} does not exist.");
        return bill!;
    }
}
