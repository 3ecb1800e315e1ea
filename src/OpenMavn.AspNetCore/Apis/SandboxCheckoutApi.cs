using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>
/// The sandbox provider's payment page (<c>/sandbox/checkout/{paymentId}</c>): a page with "pay" and "decline"
/// buttons, and the two POSTs behind them. Mapped only when the sandbox provider is registered, which itself is
/// refused in Production unless explicitly allowed. Point <c>OpenMavn:Payments:Sandbox:CheckoutBaseUrl</c> at
/// <c>{host}/sandbox/checkout/</c>.
/// </summary>
public static class SandboxCheckoutApi
{
    /// <summary>Maps the page when the sandbox provider is registered.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<SandboxPaymentProvider>() is null)
        {
            return;
        }

        var group = app.MapGroup("/sandbox/checkout").WithTags("Sandbox payments").AllowAnonymous().DisableAntiforgery();
        group.MapGet("/{paymentId}", PageAsync).WithName("SandboxCheckoutPage").WithSummary("The sandbox payment page (HTML).").ExcludeFromDescription();
        group.MapPost("/{paymentId}/confirm", ConfirmAsync).WithName("SandboxConfirmPayment").WithSummary("Pays a sandbox checkout, as a customer on the payment page would.");
        group.MapPost("/{paymentId}/fail", FailAsync).WithName("SandboxFailPayment").WithSummary("Declines a sandbox checkout.");
    }

    /// <summary>What paying did.</summary>
    /// <param name="Outcome">The order's outcome.</param>
    public sealed record SandboxOutcome(PaymentApplication Outcome);

    private static ContentHttpResult PageAsync(string paymentId)
    {
        var id = WebUtility.HtmlEncode(paymentId);
        return TypedResults.Content(
            $"""
            <!doctype html><html><head><meta charset="utf-8"><title>OpenMavn sandbox payment</title></head>
            <body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">
            <h1>Sandbox payment</h1><p>Payment <code>{id}</code>. No money moves in the sandbox.</p>
            <form method="post" action="{id}/confirm"><button>Pay</button></form>
            <form method="post" action="{id}/fail"><button>Decline</button></form>
            </body></html>
            """,
            "text/html; charset=utf-8");
    }

    private static async Task<Ok<SandboxOutcome>> ConfirmAsync(string paymentId, SandboxPaymentProvider sandbox, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SandboxOutcome(await sandbox.ConfirmAsync(paymentId, cancellationToken)));

    private static async Task<Ok<SandboxOutcome>> FailAsync(string paymentId, SandboxPaymentProvider sandbox, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SandboxOutcome(await sandbox.FailAsync(paymentId, cancellationToken)));
}
