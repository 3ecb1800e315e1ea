using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>The customer (mobile app) API under <c>/api/customer</c>, plus the public campaign catalogue under <c>/api/campaigns</c>.</summary>
public static class CustomerApi
{
    /// <summary>Maps the group.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var catalogue = app.MapGroup("/api/campaigns").WithTags("Catalogue").AllowAnonymous();
        catalogue.MapGet("/", SearchAsync).WithName("SearchCampaigns").WithSummary("Published campaigns on sale: free text, merchant, currency, near a point; paged.");
        catalogue.MapGet("/{campaignId:guid}", GetCampaignAsync).WithName("GetCampaign").WithSummary("One campaign, localized.");

        var customer = app.MapGroup("/api/customer").WithTags("Customer").RequireAuthorization(Policies.User);
        customer.MapPut("/profile", PutProfileAsync).WithName("PutCustomerProfile").WithSummary("Creates or updates the signed-in user's customer profile (name, language, reminders).");
        customer.MapPost("/orders", PlaceOrderAsync).RequireIdempotencyKey().WithName("PlaceOrder").WithSummary("Buys vouchers: reserves stock and returns the order with its payment link (free campaigns are paid at once).");
        customer.MapGet("/vouchers", ListVouchersAsync).WithName("ListMyVouchers").WithSummary("The signed-in customer's vouchers.");
        customer.MapGet("/vouchers/{voucherId:guid}", GetVoucherAsync).WithName("GetMyVoucher").WithSummary("One of the customer's vouchers with its history and ledger receipts.");
    }

    /// <summary>Profile and preferences.</summary>
    /// <param name="DisplayName">Name shown to others.</param>
    /// <param name="Language">Two-letter language.</param>
    /// <param name="ExpiryReminders">Receive expiry reminders (receipts are always sent).</param>
    public sealed record ProfileRequest(string? DisplayName, string Language, bool? ExpiryReminders);

    /// <summary>The customer profile.</summary>
    public sealed record ProfileView(Guid Id, string Email, string? DisplayName, string Language, bool ExpiryReminders);

    /// <summary>An order to place.</summary>
    /// <param name="CampaignId">Campaign.</param>
    /// <param name="Quantity">How many vouchers.</param>
    /// <param name="Language">Language of the payment page (default: the profile's).</param>
    public sealed record PlaceOrderRequest(Guid CampaignId, int Quantity, string? Language);

    private static async Task<Ok<IReadOnlyList<CampaignView>>> SearchAsync(
        CampaignService campaigns,
        string? q,
        Guid? merchantId,
        string? currency,
        double? lat,
        double? lon,
        double? radiusKm,
        string? language,
        int? skip,
        int? take,
        CancellationToken cancellationToken)
    {
        var found = await campaigns.SearchAsync(new CampaignSearch(q, merchantId, currency, lat, lon, radiusKm, skip ?? 0, take ?? 50), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<CampaignView>>(found.Select(c => CampaignView.From(c, language)).ToList());
    }

    private static async Task<Results<Ok<CampaignView>, NotFound>> GetCampaignAsync(Guid campaignId, string? language, CampaignService campaigns, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.GetAsync(campaignId, cancellationToken);
        return campaign.State is CampaignState.Draft or CampaignState.Cancelled
            ? TypedResults.NotFound()
            : TypedResults.Ok(CampaignView.From(campaign, language));
    }

    private static async Task<Ok<ProfileView>> PutProfileAsync(ProfileRequest request, HttpContext http, UserManager<OpenMavnUser> users, CustomerService customers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = await users.GetUserAsync(http.User) ?? throw new ForbiddenException("auth.required", "Sign in first.");
        var customer = await customers.RegisterAsync(user.Id, user.Email ?? "", request.DisplayName, request.Language, cancellationToken);
        if (request.ExpiryReminders is { } reminders)
        {
            customer = await customers.UpdatePreferencesAsync(Actor.Customer(user.Id), null, reminders, null, cancellationToken);
        }

        return TypedResults.Ok(new ProfileView(customer.Id, customer.Email, customer.DisplayName, customer.Language, customer.ExpiryReminders));
    }

    private static async Task<Created<OrderView>> PlaceOrderAsync(
        PlaceOrderRequest request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        PurchaseService purchases,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var order = await purchases.PlaceOrderAsync(http.User.AsCustomer(), new PlaceOrder(request.CampaignId, request.Quantity, idempotencyKey, request.Language), cancellationToken);
        return TypedResults.Created($"/api/customer/orders/{order.Id}", OrderView.From(order));
    }

    private static async Task<Ok<IReadOnlyList<VoucherView>>> ListVouchersAsync(HttpContext http, VoucherService vouchers, CancellationToken cancellationToken)
    {
        var mine = await vouchers.ListMineAsync(http.User.AsCustomer(), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<VoucherView>>(mine.Select(v => VoucherView.From(v)).ToList());
    }

    private static async Task<Ok<VoucherDetailView>> GetVoucherAsync(Guid voucherId, HttpContext http, VoucherService vouchers, CancellationToken cancellationToken)
    {
        var detail = await vouchers.GetAsync(http.User.AsCustomer(), voucherId, cancellationToken);
        return TypedResults.Ok(VoucherDetailView.From(detail));
    }
}
