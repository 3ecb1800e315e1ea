using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Vouchers;
using static OpenMavn.AspNetCore.Apis.MerchantApi;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>
/// The integration API for tills and partner systems under <c>/api/integration</c>, authenticated by a merchant API key
/// in the <c>X-Api-Key</c> header. A key acts for its own merchant with staff rights: validate and redeem codes,
/// reverse redemptions, list campaigns and sales.
/// </summary>
public static class IntegrationApi
{
    /// <summary>Maps the group.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var group = app.MapGroup("/api/integration").WithTags("Integration").RequireAuthorization(Policies.ApiKey);
        group.MapPost("/redemptions/validate", ValidateAsync)
            .LimitCodeLookups()
            .WithName("IntegrationValidateCode").WithSummary("Shows what redeeming a code would do; changes nothing.");
        group.MapPost("/redemptions", RedeemAsync)
            .RequireIdempotencyKey()
            .LimitCodeLookups()
            .WithName("IntegrationRedeem").WithSummary("Redeems a voucher of the key's merchant exactly once; the same Idempotency-Key returns the same receipt.");
        group.MapPost("/redemptions/{redemptionId:guid}/reverse", ReverseAsync).WithName("IntegrationReverseRedemption").WithSummary("Reverses a redemption of the key's merchant within the reversal window.");
        group.MapGet("/campaigns", ListCampaignsAsync).WithName("IntegrationListCampaigns").WithSummary("The key's merchant's campaigns in every state.");
        group.MapGet("/sales", ListSalesAsync).WithName("IntegrationListSales").WithSummary("The key's merchant's orders paid in a period, newest first.");
    }

    private static async Task<Ok<RedemptionPreviewView>> ValidateAsync(RedeemRequest request, HttpContext http, RedemptionService redemptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var preview = await redemptions.PreviewAsync(http.User.AsApiKey(), http.User.ApiKeyMerchant(), request.Code ?? "", request.Amount, request.Language, cancellationToken);
        return TypedResults.Ok(RedemptionPreviewView.From(preview));
    }

    private static async Task<Ok<RedemptionReceiptView>> RedeemAsync(
        RedeemRequest request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        RedemptionService redemptions,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var receipt = await redemptions.RedeemAsync(http.User.AsApiKey(), http.User.ApiKeyMerchant(), request.Code ?? "", request.Amount, idempotencyKey, cancellationToken);
        return TypedResults.Ok(RedemptionReceiptView.From(receipt));
    }

    private static async Task<Ok<VoucherView>> ReverseAsync(Guid redemptionId, HttpContext http, RedemptionService redemptions, CancellationToken cancellationToken) =>
        TypedResults.Ok(VoucherView.From(await redemptions.ReverseAsync(http.User.AsApiKey(), http.User.ApiKeyMerchant(), redemptionId, cancellationToken), showCode: false));

    private static async Task<Ok<IReadOnlyList<CampaignView>>> ListCampaignsAsync(string? language, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        var all = await campaigns.ListForMerchantAsync(http.User.AsApiKey(), http.User.ApiKeyMerchant(), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<CampaignView>>(all.Select(c => CampaignView.From(c, language)).ToList());
    }

    private static async Task<Ok<IReadOnlyList<SaleView>>> ListSalesAsync(DateTimeOffset? from, DateTimeOffset? to, int? skip, int? take, HttpContext http, PurchaseService purchases, CancellationToken cancellationToken)
    {
        var sales = await purchases.ListSalesAsync(http.User.AsApiKey(), http.User.ApiKeyMerchant(), from, to, skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<SaleView>>(sales.Select(SaleView.From).ToList());
    }
}
