using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Vouchers;
using QRCoder;

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
        catalogue.MapGet("/{campaignId:guid}/images/{imageId:guid}", GetCampaignImageAsync).WithName("GetCampaignImage").WithSummary("A campaign image: the stored bytes with their content type (cacheable).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp"]).ProducesProblem(StatusCodes.Status404NotFound);

        // Signed-out callers get 401, never the Identity cookie's redirect to a login page: endpoints that neither
        // read nor write JSON (QR images, 204s) are not recognised as API endpoints by the cookie handler otherwise.
        var customer = app.MapGroup("/api/customer").WithTags("Customer").RequireAuthorization(Policies.User).DisableCookieRedirect()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        customer.MapGet("/profile", GetProfileAsync).WithName("GetCustomerProfile").WithSummary("The signed-in user's customer profile and preferences.");
        customer.MapPut("/profile", PutProfileAsync).WithName("PutCustomerProfile").WithSummary("Creates or updates the signed-in user's customer profile (name, language, reminders).");

        customer.MapPost("/orders", PlaceOrderAsync).RequireIdempotencyKey().WithName("PlaceOrder").WithSummary("Buys vouchers: reserves stock and returns the order with its payment link (free campaigns are paid at once).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        customer.MapGet("/orders", ListOrdersAsync).WithName("ListMyOrders").WithSummary("The signed-in customer's orders, newest first; paged with skip and take (1–200).");
        customer.MapGet("/orders/{orderId:guid}", GetOrderAsync).WithName("GetMyOrder").WithSummary("One of the customer's orders.");

        customer.MapGet("/vouchers", ListVouchersAsync).WithName("ListMyVouchers").WithSummary("The signed-in customer's vouchers.");
        customer.MapGet("/vouchers/{voucherId:guid}", GetVoucherAsync).WithName("GetMyVoucher").WithSummary("One of the customer's vouchers with its history and ledger receipts.");
        customer.MapGet("/vouchers/{voucherId:guid}/qr.png", GetVoucherQrPngAsync).WithName("GetMyVoucherQrPng").WithSummary("The voucher's code as a QR image (PNG). A bearer secret: never cached.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png");
        customer.MapGet("/vouchers/{voucherId:guid}/qr.svg", GetVoucherQrSvgAsync).WithName("GetMyVoucherQrSvg").WithSummary("The voucher's code as a QR image (SVG). A bearer secret: never cached.")
            .Produces(StatusCodes.Status200OK, contentType: "image/svg+xml");

        customer.MapPost("/vouchers/{voucherId:guid}/gift", SendGiftAsync).RequireIdempotencyKey().WithName("SendGift").WithSummary("Gifts the voucher to an email address, now or at a later time; a recipient with an account receives it at once.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        customer.MapGet("/gifts", ListGiftsAsync).WithName("ListMyGifts").WithSummary("Gifts the customer sent and received, newest first.");
        customer.MapPost("/gifts/claim", ClaimGiftAsync).RequireIdempotencyKey().WithName("ClaimGift").WithSummary("Claims a gift with the one-time token from its link; the voucher moves to the caller with a fresh code.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        customer.MapPost("/gifts/{giftId:guid}/cancel", CancelGiftAsync).WithName("CancelGift").WithSummary("Takes back a gift that has not reached its recipient yet.")
            .ProducesProblem(StatusCodes.Status409Conflict);

        customer.MapPost("/exchanges", OfferExchangeAsync).RequireIdempotencyKey().WithName("OfferExchange").WithSummary("Offers one of the customer's vouchers for another customer's voucher, or for any voucher of a campaign.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        customer.MapGet("/exchanges", ListExchangesAsync).WithName("ListMyExchanges").WithSummary("Offers made by or to the customer, including campaign-wide offers they could accept (open ones only unless openOnly=false).");
        customer.MapPost("/exchanges/{offerId:guid}/accept", AcceptExchangeAsync).RequireIdempotencyKey().WithName("AcceptExchange").WithSummary("Accepts an offer: both vouchers change hands (with fresh codes) or neither does. Campaign-wide offers name the voucher given.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        customer.MapPost("/exchanges/{offerId:guid}/decline", DeclineExchangeAsync).WithName("DeclineExchange").WithSummary("Declines an offer addressed to the customer.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        customer.MapPost("/exchanges/{offerId:guid}/withdraw", WithdrawExchangeAsync).WithName("WithdrawExchange").WithSummary("Withdraws one of the customer's own open offers.")
            .ProducesProblem(StatusCodes.Status409Conflict);

        customer.MapPost("/devices", RegisterDeviceAsync).WithName("RegisterDevice").WithSummary("Registers a push device (FCM token; platform ios, android or web). A token moves to the customer who registered it last.");
        customer.MapGet("/devices", ListDevicesAsync).WithName("ListMyDevices").WithSummary("The customer's push devices.");
        customer.MapDelete("/devices/{deviceId:guid}", RemoveDeviceAsync).WithName("RemoveDevice").WithSummary("Removes one of the customer's push devices.");
    }

    /// <summary>Profile and preferences.</summary>
    /// <param name="DisplayName">Name shown to others.</param>
    /// <param name="Language">Two-letter language.</param>
    /// <param name="ExpiryReminders">Receive expiry reminders (receipts are always sent).</param>
    public sealed record ProfileRequest(string? DisplayName, string Language, bool? ExpiryReminders);

    /// <summary>The customer profile.</summary>
    public sealed record ProfileView(Guid Id, string Email, string? DisplayName, string Language, bool ExpiryReminders)
    {
        /// <summary>From a customer.</summary>
        public static ProfileView From(Customer c)
        {
            ArgumentNullException.ThrowIfNull(c);
            return new(c.Id, c.Email, c.DisplayName, c.Language, c.ExpiryReminders);
        }
    }

    /// <summary>An order to place.</summary>
    /// <param name="CampaignId">Campaign.</param>
    /// <param name="Quantity">How many vouchers.</param>
    /// <param name="Language">Language of the payment page (default: the profile's).</param>
    public sealed record PlaceOrderRequest(Guid CampaignId, int Quantity, string? Language);

    /// <summary>A gift to send.</summary>
    /// <param name="RecipientEmail">Who receives it.</param>
    /// <param name="Message">Personal message (at most 1000 characters).</param>
    /// <param name="DeliverAt">When to deliver (omit for now; at most a year ahead).</param>
    public sealed record SendGiftRequest(string RecipientEmail, string? Message, DateTimeOffset? DeliverAt);

    /// <summary>A gift claim.</summary>
    /// <param name="Token">The one-time token from the gift link.</param>
    public sealed record ClaimGiftRequest(string Token);

    /// <summary>An exchange offer: either <paramref name="RequestedVoucherId"/> or <paramref name="RequestedCampaignId"/>.</summary>
    /// <param name="OfferedVoucherId">The caller's voucher.</param>
    /// <param name="RequestedVoucherId">The other customer's voucher wanted in return.</param>
    /// <param name="RequestedCampaignId">Any voucher of this campaign is wanted in return.</param>
    public sealed record OfferExchangeRequest(Guid? OfferedVoucherId, Guid? RequestedVoucherId, Guid? RequestedCampaignId);

    /// <summary>Accepting an offer.</summary>
    /// <param name="GivenVoucherId">For a campaign-wide offer: the caller's voucher of that campaign.</param>
    public sealed record AcceptExchangeRequest(Guid? GivenVoucherId);

    /// <summary>A push device to register.</summary>
    /// <param name="Token">The FCM registration token.</param>
    /// <param name="Platform">ios, android or web.</param>
    public sealed record RegisterDeviceRequest(string Token, string Platform);

    /// <summary>A registered push device.</summary>
    public sealed record DeviceView(Guid Id, string Token, string Platform, DateTimeOffset CreatedAt)
    {
        /// <summary>From a device.</summary>
        public static DeviceView From(CustomerDevice d)
        {
            ArgumentNullException.ThrowIfNull(d);
            return new(d.Id, d.Token, d.Platform, d.CreatedAt);
        }
    }

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

    private static async Task<FileContentHttpResult> GetCampaignImageAsync(Guid campaignId, Guid imageId, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        var image = await campaigns.GetImageAsync(campaignId, imageId, cancellationToken);

        // An image never changes under its id (a new upload gets a new id), so shared caches may keep it; a day
        // bounds how long a deleted image lingers in them. ETag and Last-Modified let clients revalidate for free.
        http.Response.Headers.CacheControl = "public, max-age=86400";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.File(image.Content, image.ContentType, lastModified: image.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{image.Id:N}\""));
    }

    private static async Task<Ok<ProfileView>> GetProfileAsync(HttpContext http, CustomerService customers, CancellationToken cancellationToken) =>
        TypedResults.Ok(ProfileView.From(await customers.GetAsync(http.User.UserId(), cancellationToken)));

    private static async Task<Ok<ProfileView>> PutProfileAsync(ProfileRequest request, HttpContext http, UserManager<OpenMavnUser> users, CustomerService customers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = await users.GetUserAsync(http.User) ?? throw new ForbiddenException("auth.required", "Sign in first.");
        var customer = await customers.RegisterAsync(user.Id, user.Email ?? "", request.DisplayName, request.Language, cancellationToken);
        if (request.ExpiryReminders is { } reminders)
        {
            customer = await customers.UpdatePreferencesAsync(Actor.Customer(user.Id), null, reminders, null, cancellationToken);
        }

        return TypedResults.Ok(ProfileView.From(customer));
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

    private static async Task<Ok<IReadOnlyList<OrderView>>> ListOrdersAsync(int? skip, int? take, HttpContext http, PurchaseService purchases, CancellationToken cancellationToken)
    {
        var mine = await purchases.ListMineAsync(http.User.AsCustomer(), skip ?? 0, take ?? 50, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<OrderView>>(mine.Select(OrderView.From).ToList());
    }

    private static async Task<Ok<OrderView>> GetOrderAsync(Guid orderId, HttpContext http, PurchaseService purchases, CancellationToken cancellationToken) =>
        TypedResults.Ok(OrderView.From(await purchases.GetOrderAsync(http.User.AsCustomer(), orderId, cancellationToken)));

    private static async Task<Ok<IReadOnlyList<VoucherView>>> ListVouchersAsync(HttpContext http, VoucherService vouchers, CancellationToken cancellationToken)
    {
        var mine = await vouchers.ListMineAsync(http.User.AsCustomer(), cancellationToken);
        NoStore(http);
        return TypedResults.Ok<IReadOnlyList<VoucherView>>(mine.Select(v => VoucherView.From(v)).ToList());
    }

    private static async Task<Ok<VoucherDetailView>> GetVoucherAsync(Guid voucherId, HttpContext http, VoucherService vouchers, CancellationToken cancellationToken)
    {
        var detail = await vouchers.GetAsync(http.User.AsCustomer(), voucherId, cancellationToken);
        NoStore(http);
        return TypedResults.Ok(VoucherDetailView.From(detail));
    }

    private static async Task<FileContentHttpResult> GetVoucherQrPngAsync(Guid voucherId, HttpContext http, VoucherService vouchers, CancellationToken cancellationToken)
    {
        var code = await OwnCodeAsync(voucherId, http, vouchers, cancellationToken);
        return TypedResults.File(VoucherQr.Png(code), "image/png");
    }

    private static async Task<FileContentHttpResult> GetVoucherQrSvgAsync(Guid voucherId, HttpContext http, VoucherService vouchers, CancellationToken cancellationToken)
    {
        var code = await OwnCodeAsync(voucherId, http, vouchers, cancellationToken);
        return TypedResults.File(System.Text.Encoding.UTF8.GetBytes(VoucherQr.Svg(code)), "image/svg+xml; charset=utf-8");
    }

    /// <summary>The canonical code of one of the caller's vouchers; the response is marked uncacheable.</summary>
    private static async Task<string> OwnCodeAsync(Guid voucherId, HttpContext http, VoucherService vouchers, CancellationToken cancellationToken)
    {
        var detail = await vouchers.GetAsync(http.User.AsCustomer(), voucherId, cancellationToken);
        NoStore(http);
        return detail.Voucher.Code;
    }

    /// <summary>A voucher code is a bearer secret: no cache (not even the app's own HTTP cache on disk) may keep a response carrying one.</summary>
    private static void NoStore(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
    }

    private static async Task<Created<GiftView>> SendGiftAsync(
        Guid voucherId,
        SendGiftRequest request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        GiftService gifts,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var gift = await gifts.SendAsync(http.User.AsCustomer(), new SendGift(voucherId, request.RecipientEmail, request.Message, request.DeliverAt), cancellationToken);
        return TypedResults.Created((string?)null, GiftView.From(gift));
    }

    private static async Task<Ok<IReadOnlyList<GiftView>>> ListGiftsAsync(HttpContext http, GiftService gifts, CancellationToken cancellationToken)
    {
        var mine = await gifts.ListAsync(http.User.AsCustomer(), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<GiftView>>(mine.Select(GiftView.From).ToList());
    }

    private static async Task<Ok<VoucherView>> ClaimGiftAsync(
        ClaimGiftRequest request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        GiftService gifts,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var voucher = await gifts.ClaimAsync(http.User.AsCustomer(), request.Token, cancellationToken);
        return TypedResults.Ok(VoucherView.From(voucher));
    }

    private static async Task<NoContent> CancelGiftAsync(Guid giftId, HttpContext http, GiftService gifts, CancellationToken cancellationToken)
    {
        await gifts.CancelAsync(http.User.AsCustomer(), giftId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Created<ExchangeOfferView>> OfferExchangeAsync(
        OfferExchangeRequest request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        ExchangeService exchanges,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var offered = request.OfferedVoucherId ?? throw new ValidationFailedException("offeredVoucherId", "The voucher you offer is required.");
        var offer = await exchanges.OfferAsync(http.User.AsCustomer(), new OfferExchange(offered, request.RequestedVoucherId, request.RequestedCampaignId), cancellationToken);
        return TypedResults.Created((string?)null, ExchangeOfferView.From(offer));
    }

    private static async Task<Ok<IReadOnlyList<ExchangeOfferView>>> ListExchangesAsync(bool? openOnly, HttpContext http, ExchangeService exchanges, CancellationToken cancellationToken)
    {
        var offers = await exchanges.ListAsync(http.User.AsCustomer(), openOnly ?? true, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ExchangeOfferView>>(offers.Select(ExchangeOfferView.From).ToList());
    }

    private static async Task<Ok<ExchangeOfferView>> AcceptExchangeAsync(
        Guid offerId,
        [FromBody] AcceptExchangeRequest? request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        ExchangeService exchanges,
        CancellationToken cancellationToken)
    {
        var offer = await exchanges.AcceptAsync(http.User.AsCustomer(), offerId, request?.GivenVoucherId, cancellationToken);
        return TypedResults.Ok(ExchangeOfferView.From(offer));
    }

    private static async Task<NoContent> DeclineExchangeAsync(Guid offerId, HttpContext http, ExchangeService exchanges, CancellationToken cancellationToken)
    {
        await exchanges.DeclineAsync(http.User.AsCustomer(), offerId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> WithdrawExchangeAsync(Guid offerId, HttpContext http, ExchangeService exchanges, CancellationToken cancellationToken)
    {
        await exchanges.WithdrawAsync(http.User.AsCustomer(), offerId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Created<DeviceView>> RegisterDeviceAsync(RegisterDeviceRequest request, HttpContext http, CustomerService customers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var device = await customers.RegisterDeviceAsync(http.User.AsCustomer(), request.Token, request.Platform, cancellationToken);
        return TypedResults.Created($"/api/customer/devices/{device.Id}", DeviceView.From(device));
    }

    private static async Task<Ok<IReadOnlyList<DeviceView>>> ListDevicesAsync(HttpContext http, CustomerService customers, CancellationToken cancellationToken)
    {
        var devices = await customers.ListDevicesAsync(http.User.AsCustomer(), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<DeviceView>>(devices.Select(DeviceView.From).ToList());
    }

    private static async Task<NoContent> RemoveDeviceAsync(Guid deviceId, HttpContext http, CustomerService customers, CancellationToken cancellationToken)
    {
        await customers.RemoveDeviceAsync(http.User.AsCustomer(), deviceId, cancellationToken);
        return TypedResults.NoContent();
    }
}

/// <summary>Renders voucher codes as QR images (error correction level Q: still readable with a scratched or partly covered screen).</summary>
internal static class VoucherQr
{
    private const int PixelsPerModule = 10;

    public static byte[] Png(string code)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(code, QRCodeGenerator.ECCLevel.Q);
        using var png = new PngByteQRCode(data);
        return png.GetGraphic(PixelsPerModule);
    }

    public static string Svg(string code)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(code, QRCodeGenerator.ECCLevel.Q);
        using var svg = new SvgQRCode(data);
        return svg.GetGraphic(PixelsPerModule);
    }
}
