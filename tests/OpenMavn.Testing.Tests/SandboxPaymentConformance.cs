using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Testing.Payments;

namespace OpenMavn.Testing.Tests;

/// <summary>The built-in sandbox provider runs the payment conformance kit.</summary>
public sealed class SandboxPaymentConformance : SandboxPaymentConformanceBase;

/// <summary>
/// The sandbox's hooks: checkouts live in the OpenMavn database; paying and declining are the sandbox's own
/// <see cref="SandboxPaymentProvider.ConfirmAsync"/> and <see cref="SandboxPaymentProvider.FailAsync"/> (no order
/// exists for the kit's checkouts, so Core's refresh finds none and changes nothing); its webhook is
/// <c>{"paymentId":…,"status":…}</c>. <see cref="Wrap"/> lets the Kit_catches tests put a broken provider in front.
/// </summary>
public abstract class SandboxPaymentConformanceBase : PaymentProviderConformanceTests
{
    private ServiceProvider? _services;

    private SandboxPaymentProvider Sandbox => _services!.GetRequiredService<SandboxPaymentProvider>();

    protected override PaymentAccountCredentials Account { get; } = new("sandbox-merchant", "sandbox-secret");

    protected override PaymentAccountCredentials RefusedAccount { get; } = new("sandbox-merchant", "");

    protected override bool SupportsDecline => true;

    protected override bool DeduplicatesCheckoutsByOrderId => true;

    protected override string UnknownPaymentId => "sbx_000000000000000000000000";

    protected override IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations =>
    [
        ("CheckoutBaseUrl", b => Development(b).AddSandboxPayments(o => o.CheckoutBaseUrl = "/sandbox/checkout/")),
        ("CheckoutBaseUrl", b => Development(b).AddSandboxPayments(o => o.CheckoutBaseUrl = "not a url")),
        ("AllowInProduction", b => In(b, Environments.Production).AddSandboxPayments()),
    ];

    protected override Action<IOpenMavnBuilder>? ValidConfiguration => b => Development(b).AddSandboxPayments();

    protected virtual IPaymentProvider Wrap(SandboxPaymentProvider sandbox) => sandbox;

    protected override async Task<IPaymentProvider> CreateProviderAsync()
    {
        _services = await PaymentsSandboxDatabase.ServicesAsync();
        return Wrap(Sandbox);
    }

    protected override async Task<bool> PayAsync(CheckoutRequest request, CheckoutSession session)
    {
        await Sandbox.ConfirmAsync(session.ProviderPaymentId);
        return true; // Every sandbox payment is a test payment.
    }

    protected override Task DeclineAsync(CheckoutRequest request, CheckoutSession session) => Sandbox.FailAsync(session.ProviderPaymentId);

    protected override Task<PaymentWebhookRequest?> WebhookForAsync(CheckoutSession session, PaymentStatus status)
    {
        var body = $$"""{"paymentId":"{{session.ProviderPaymentId}}","status":"{{status}}"}""";
        return Task.FromResult<PaymentWebhookRequest?>(new PaymentWebhookRequest(
            "application/json", Encoding.UTF8.GetBytes(body), new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)));
    }

    protected override async Task<int?> CountCheckoutsAsync(Guid orderId)
    {
        await using var scope = _services!.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>().SandboxPayments.CountAsync(p => p.OrderId == orderId);
    }

    private static IOpenMavnBuilder Development(IOpenMavnBuilder builder) => In(builder, Environments.Development);

    private static IOpenMavnBuilder In(IOpenMavnBuilder builder, string environment)
    {
        builder.Services.AddSingleton<IHostEnvironment>(new PaymentsTestEnvironment(environment));
        return builder;
    }
}
