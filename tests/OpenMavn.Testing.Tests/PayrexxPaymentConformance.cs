using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Payments;
using OpenMavn.Payments.Payrexx;
using OpenMavn.Payrexx.StandIn;
using OpenMavn.Testing.Payments;

namespace OpenMavn.Testing.Tests;

/// <summary>
/// The Payrexx provider runs the payment conformance kit against the Payrexx stand-in (a local server on 127.0.0.1
/// that enforces payrexx-api.md), registered the way a host registers it (<c>AddPayrexxPayments</c>).
/// </summary>
public sealed class PayrexxPaymentConformance : PayrexxPaymentConformanceBase;

/// <summary>The same, with Payrexx answering every refund <c>refund_pending</c> (Core completes those later by polling).</summary>
public sealed class PayrexxPendingRefundsPaymentConformance : PayrexxPaymentConformanceBase
{
    protected override bool RefundsArePending => true;
}

/// <summary>The Payrexx hooks: the stand-in plays the shopper (pay, decline) and builds the webhooks Payrexx would send.</summary>
public abstract class PayrexxPaymentConformanceBase : PaymentProviderConformanceTests
{
    private const string Instance = "conformance-shop";
    private const string Secret = "Zk3q9LmXx2Vb8NcR4tY6uWp1sHd5JgA7";

    private PayrexxStandIn? _payrexx;
    private ServiceProvider? _services;

    private PayrexxStandIn Payrexx => _payrexx!;

    protected override PaymentAccountCredentials Account { get; } = new(Instance, Secret);

    protected override PaymentAccountCredentials RefusedAccount { get; } = new(Instance, "not-the-secret");

    protected override bool SupportsDecline => true;

    /// <summary>Whether the stand-in answers refunds with <c>refund_pending</c>.</summary>
    protected virtual bool RefundsArePending => false;

    protected override IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations =>
    [
        ("BaseUrl", b => b.AddPayrexxPayments(o => o.BaseUrl = "/v1.15")),
        ("BaseUrl", b => b.AddPayrexxPayments(o => o.BaseUrl = "ftp://api.payrexx.com")),
        ("ApiVersion", b => b.AddPayrexxPayments(o => o.ApiVersion = "v1.15")),
        ("ApiVersion", b => b.AddPayrexxPayments(o => o.ApiVersion = "")),
        ("RequestTimeout", b => b.AddPayrexxPayments(o => o.RequestTimeout = TimeSpan.Zero)),
    ];

    protected override Action<IOpenMavnBuilder>? ValidConfiguration => b => b.AddPayrexxPayments(o => o.BaseUrl = "http://127.0.0.1:9/");

    protected override async Task<IPaymentProvider> CreateProviderAsync()
    {
        _payrexx = await PayrexxStandIn.StartAsync();
        _payrexx.AddInstance(Instance, Secret);
        _payrexx.RefundsArePending = RefundsArePending;
        var services = new ServiceCollection();
        services.AddOpenMavn().AddPayrexxPayments(o => o.BaseUrl = _payrexx.BaseUrl.ToString());
        _services = services.BuildServiceProvider();
        return _services.GetRequiredService<IPaymentProvider>();
    }

    protected override async Task CleanUpAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_payrexx is not null)
        {
            await _payrexx.DisposeAsync();
        }
    }

    protected override Task<bool> PayAsync(CheckoutRequest request, CheckoutSession session)
    {
        var transaction = Payrexx.Pay(GatewayId(session), test: false);
        return Task.FromResult(transaction.Test);
    }

    protected override Task DeclineAsync(CheckoutRequest request, CheckoutSession session)
    {
        Payrexx.Decline(GatewayId(session));
        return Task.CompletedTask;
    }

    protected override Task<PaymentWebhookRequest?> WebhookForAsync(CheckoutSession session, PaymentStatus status)
    {
        var id = GatewayId(session);
        var word = status switch
        {
            PaymentStatus.Pending => "waiting",
            PaymentStatus.Confirmed => "confirmed",
            PaymentStatus.Failed => "declined",
            PaymentStatus.Cancelled => "cancelled",
            PaymentStatus.Refunded => "refunded",
            PaymentStatus.PartiallyRefunded => "partially-refunded",
            PaymentStatus.RefundPending => "refund_pending",
            _ => "chargeback",
        };
        var gateway = Payrexx.GetGateway(id);
        var (contentType, body) = gateway.Transactions.Count > 0 ? Payrexx.BuildWebhook(id, word) : Forged(gateway, word);
        return Task.FromResult<PaymentWebhookRequest?>(new PaymentWebhookRequest(
            contentType, Encoding.UTF8.GetBytes(body), new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = contentType }));
    }

    protected override Task<int?> CountCheckoutsAsync(Guid orderId) =>
        Task.FromResult<int?>(Payrexx.Gateways.Count(g => g.ReferenceId == orderId.ToString()));

    private static int GatewayId(CheckoutSession session) => int.Parse(session.ProviderPaymentId, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>
    /// A webhook in Payrexx's shape for a gateway nobody paid: the stand-in builds webhooks only for real transactions,
    /// and anyone can post one to the shop (Payrexx webhooks are not signed), so the kit's forgery is written by hand.
    /// </summary>
    private static PayrexxWebhook Forged(GatewaySnapshot gateway, string status)
    {
        var body = new JsonObject
        {
            ["transaction"] = new JsonObject
            {
                ["id"] = 990001,
                ["uuid"] = "f0f0f0f0",
                ["status"] = status,
                ["amount"] = gateway.Amount,
                ["referenceId"] = gateway.ReferenceId,
                ["invoice"] = new JsonObject
                {
                    ["referenceId"] = gateway.ReferenceId,
                    ["paymentRequestId"] = gateway.Id,
                    ["currency"] = gateway.Currency,
                    ["test"] = 0,
                    ["originalAmount"] = gateway.Amount,
                    ["refundedAmount"] = 0,
                },
            },
        };
        return new PayrexxWebhook("application/json", body.ToJsonString());
    }
}
