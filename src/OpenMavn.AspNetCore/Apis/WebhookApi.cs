using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>Payment webhooks: <c>POST /webhooks/payments/{provider}</c>, handed to the provider's parser and verified against the provider.</summary>
public static class WebhookApi
{
    /// <summary>Maps the endpoint.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/webhooks/payments/{provider}", ReceiveAsync)
            .WithName("ReceivePaymentWebhook")
            .WithSummary("Receives a payment provider's webhook and answers at once. The body is only a hint: it is queued (a repeated delivery is dropped) and the payment is re-read from the provider before anything changes.")
            .WithTags("Webhooks")
            .AllowAnonymous()
            .DisableAntiforgery();
    }

    /// <summary>What became of the webhook.</summary>
    /// <param name="Outcome">Queued for verification, a duplicate of an earlier delivery, or ignored (names no payment).</param>
    public sealed record WebhookResponse(WebhookReceipt Outcome);

    private static async Task<Ok<WebhookResponse>> ReceiveAsync(string provider, HttpRequest request, PurchaseService purchases, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var outcome = await purchases.QueueWebhookAsync(provider, new PaymentWebhookRequest(request.ContentType, buffer.ToArray(), headers), cancellationToken);

        // 200 even when nothing matched: the provider must not retry a hint we have taken.
        return TypedResults.Ok(new WebhookResponse(outcome));
    }
}
