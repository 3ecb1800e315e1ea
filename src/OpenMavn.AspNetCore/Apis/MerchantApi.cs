using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>
/// The merchant (business app) API under <c>/api/merchants</c>: self-registration and KYC, staff, the payment account,
/// campaigns and their images, redemption, sales, balances, CSV exports, API keys and refunds. Every route acts as the
/// signed-in user (an operator acts as an operator); Core decides who may do what (members of this merchant only;
/// owners for management, staff for redemption and sales).
/// </summary>
public static class MerchantApi
{
    /// <summary>Largest image upload accepted by the HTTP layer (the image itself may be at most 2 MB; Core checks it).</summary>
    private const long ImageRequestLimit = (2 * 1024 * 1024) + (64 * 1024);

    private const int ImageMaxBytes = 2 * 1024 * 1024;

    private const int ExportPageSize = 1000;

    /// <summary>Maps the group (the public image URL is served by the catalogue in <see cref="CustomerApi"/>).</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);



        var group = app.MapGroup("/api/merchants").WithTags("Merchant").RequireAuthorization(Policies.User);

        group.MapPost("/", RegisterAsync).WithName("RegisterMerchant").WithSummary("Registers a business with the signed-in user as its owner; the review (KYC) starts Pending.");
        group.MapGet("/{merchantId:guid}", GetAsync).WithName("GetMerchant").WithSummary("The merchant's profile, review state and payment account (members).");
        group.MapPut("/{merchantId:guid}/profile", UpdateProfileAsync).WithName("UpdateMerchantProfile").WithSummary("Replaces the public profile: name, contact, language, time zone, address and location; sets the daily summary preference when given (owners).");
        group.MapPost("/{merchantId:guid}/kyc/submit", SubmitKycAsync).WithName("SubmitMerchantKyc").WithSummary("Submits the merchant for review: Pending or RequiresData → InReview (owners).");

        group.MapPost("/{merchantId:guid}/members", AddMemberAsync).WithName("AddMerchantMember").WithSummary("Adds a signed-up user as staff or owner, or changes their role (owners).");
        group.MapDelete("/{merchantId:guid}/members/{userId:guid}", RemoveMemberAsync).WithName("RemoveMerchantMember").WithSummary("Removes a member; the last owner stays (owners).");

        group.MapPut("/{merchantId:guid}/payment-account", ConnectPaymentAccountAsync).WithName("ConnectPaymentAccount").WithSummary("Connects the merchant's own payment account; the provider verifies the credentials; the secret is stored encrypted and never returned (owners).");

        group.MapPost("/{merchantId:guid}/campaigns", CreateCampaignAsync).WithName("CreateCampaign").WithSummary("Creates a draft campaign (owners).");
        group.MapGet("/{merchantId:guid}/campaigns", ListCampaignsAsync).WithName("ListMerchantCampaigns").WithSummary("The merchant's campaigns in every state (members).");
        group.MapGet("/{merchantId:guid}/campaigns/{campaignId:guid}", GetCampaignAsync).WithName("GetMerchantCampaign").WithSummary("One of the merchant's campaigns with all its texts (members).");
        group.MapPut("/{merchantId:guid}/campaigns/{campaignId:guid}", UpdateCampaignAsync).WithName("UpdateCampaign").WithSummary("Replaces a campaign's definition; terms buyers rely on are frozen after the first sale (owners).");
        group.MapPost("/{merchantId:guid}/campaigns/{campaignId:guid}/publish", (Guid merchantId, Guid campaignId, string? language, HttpContext http, CampaignService campaigns, CancellationToken ct) =>
                TransitionAsync(merchantId, campaignId, language, http, campaigns, campaigns.PublishAsync, ct))
            .WithName("PublishCampaign").WithSummary("Draft → Published; the merchant must be approved and have a payment account (owners).");
        group.MapPost("/{merchantId:guid}/campaigns/{campaignId:guid}/pause", (Guid merchantId, Guid campaignId, string? language, HttpContext http, CampaignService campaigns, CancellationToken ct) =>
                TransitionAsync(merchantId, campaignId, language, http, campaigns, campaigns.PauseAsync, ct))
            .WithName("PauseCampaign").WithSummary("Published → Paused (owners).");
        group.MapPost("/{merchantId:guid}/campaigns/{campaignId:guid}/resume", (Guid merchantId, Guid campaignId, string? language, HttpContext http, CampaignService campaigns, CancellationToken ct) =>
                TransitionAsync(merchantId, campaignId, language, http, campaigns, campaigns.ResumeAsync, ct))
            .WithName("ResumeCampaign").WithSummary("Paused → Published (owners).");
        group.MapPost("/{merchantId:guid}/campaigns/{campaignId:guid}/end", (Guid merchantId, Guid campaignId, string? language, HttpContext http, CampaignService campaigns, CancellationToken ct) =>
                TransitionAsync(merchantId, campaignId, language, http, campaigns, campaigns.EndAsync, ct))
            .WithName("EndCampaign").WithSummary("Published or Paused → Ended; vouchers sold stay valid (owners).");
        group.MapPost("/{merchantId:guid}/campaigns/{campaignId:guid}/cancel", (Guid merchantId, Guid campaignId, string? language, HttpContext http, CampaignService campaigns, CancellationToken ct) =>
                TransitionAsync(merchantId, campaignId, language, http, campaigns, campaigns.CancelAsync, ct))
            .WithName("CancelCampaign").WithSummary("Withdraws a campaign that sold nothing (owners).");
        group.MapPost("/{merchantId:guid}/campaigns/{campaignId:guid}/images", AddImageAsync)
            .WithMetadata(new LargeBodyMetadata())
            .WithMetadata(new RequestSizeLimitAttribute(ImageRequestLimit))
            .DisableAntiforgery()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // Describe the form as it is read: one part named "file" (any part name is accepted).
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["multipart/form-data"] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Required = new HashSet<string> { "file" },
                                Properties = new Dictionary<string, IOpenApiSchema> { ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                            },
                        },
                    },
                };
                return Task.CompletedTask;
            })
            .WithName("UploadCampaignImage").WithSummary("Uploads one image (multipart/form-data; PNG, JPEG or WebP, at most 2 MB) and returns its public URL (owners).");
        group.MapGet("/{merchantId:guid}/campaigns/{campaignId:guid}/ledger-fee", GetLedgerFeeAsync)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("GetCampaignLedgerFee")
            .WithSummary("The estimated cost of mirroring the campaign's vouchers on the ledger at the current fee level (0 on a ledger or chain without fees), in any state — meant for drafts before publishing; 503 with Retry-After while the ledger cannot quote (members).");
        group.MapDelete("/{merchantId:guid}/campaigns/{campaignId:guid}/images/{imageId:guid}", DeleteImageAsync).WithName("DeleteCampaignImage").WithSummary("Deletes a campaign image (owners).");

        group.MapPost("/{merchantId:guid}/redemptions/preview", PreviewAsync)
            .LimitCodeLookups()
            .WithName("PreviewRedemption").WithSummary("Shows what redeeming a code would do; changes nothing (staff).");
        group.MapPost("/{merchantId:guid}/redemptions", RedeemAsync)
            .RequireIdempotencyKey()
            .LimitCodeLookups()
            .WithName("Redeem").WithSummary("Redeems a voucher of this merchant exactly once; the same Idempotency-Key returns the same receipt (staff).");
        group.MapPost("/{merchantId:guid}/redemptions/{redemptionId:guid}/reverse", ReverseAsync).WithName("ReverseRedemption").WithSummary("Reverses a redemption of this merchant within the reversal window (staff).");
        group.MapGet("/{merchantId:guid}/redemptions", ListRedemptionsAsync).WithName("ListRedemptions").WithSummary("The merchant's redemptions in a period, newest first (staff).");
        group.MapGet("/{merchantId:guid}/redemptions.csv", ExportRedemptionsAsync)
            .Produces(StatusCodes.Status200OK, typeof(string), "text/csv")
            .WithName("ExportRedemptions").WithSummary("The merchant's redemptions in a period as CSV (staff).");

        group.MapGet("/{merchantId:guid}/sales", ListSalesAsync).WithName("ListSales").WithSummary("Orders paid in a period, newest first (staff).");
        group.MapGet("/{merchantId:guid}/sales.csv", ExportSalesAsync)
            .Produces(StatusCodes.Status200OK, typeof(string), "text/csv")
            .WithName("ExportSales").WithSummary("Orders paid in a period as CSV (staff).");
        group.MapGet("/{merchantId:guid}/balance", GetBalanceAsync).WithName("GetMerchantBalance").WithSummary("The merchant's books per currency: sales, fees, funds held, liability outstanding, redeemed, breakage (owners).");

        group.MapPost("/{merchantId:guid}/api-keys", CreateApiKeyAsync).WithName("CreateApiKey").WithSummary("Creates an API key for a till or partner system; the secret is shown once (owners).");
        group.MapGet("/{merchantId:guid}/api-keys", ListApiKeysAsync).WithName("ListApiKeys").WithSummary("The merchant's API keys, without secrets (owners).");
        group.MapDelete("/{merchantId:guid}/api-keys/{keyId:guid}", RevokeApiKeyAsync).WithName("RevokeApiKey").WithSummary("Revokes an API key at once (owners).");

        group.MapPost("/{merchantId:guid}/vouchers/{voucherId:guid}/refund", RefundAsync)
            .RequireIdempotencyKey()
            .WithName("RefundVoucher").WithSummary("Refunds an unredeemed voucher of this merchant in full; the money goes back through the payment provider (owners).");
    }

    /// <summary>What a business fills in to register.</summary>
    /// <param name="Name">Business name.</param>
    /// <param name="Email">Contact email.</param>
    /// <param name="Country">ISO 3166-1 alpha-2 country.</param>
    /// <param name="TimeZoneId">IANA time zone, e.g. Europe/Zurich.</param>
    /// <param name="Language">Two-letter language.</param>
    public sealed record MerchantRegistration(string? Name, string? Email, string? Country, string? TimeZoneId, string? Language);

    /// <summary>The merchant's public profile (replaced as a whole).</summary>
    /// <param name="Name">Business name.</param>
    /// <param name="Email">Contact email.</param>
    /// <param name="TimeZoneId">IANA time zone.</param>
    /// <param name="Language">Two-letter language.</param>
    /// <param name="Address">Street address.</param>
    /// <param name="City">City.</param>
    /// <param name="Latitude">Latitude (WGS 84); give both or neither.</param>
    /// <param name="Longitude">Longitude (WGS 84).</param>
    /// <param name="DailySummary">Receive the daily sales summary email; leave it out to keep the current setting.</param>
    public sealed record MerchantProfileRequest(string? Name, string? Email, string? TimeZoneId, string? Language, string? Address, string? City, double? Latitude, double? Longitude, bool? DailySummary = null);

    /// <summary>A member to add.</summary>
    /// <param name="UserId">The user's id (from <c>GET /api/me</c> after they signed up); or leave it out and invite by email.</param>
    /// <param name="Email">With a user id: must match the account's. Without: the person to invite (a new person gets an
    /// account and a link to set a password).</param>
    /// <param name="Role">Staff (default) or Owner.</param>
    public sealed record MemberRequest(Guid? UserId, string? Email, MerchantRole? Role);

    /// <summary>The merchant's account at a payment provider.</summary>
    /// <param name="Provider">Provider name (e.g. payrexx, sandbox).</param>
    /// <param name="AccountId">The provider-side account (for Payrexx, the instance name).</param>
    /// <param name="Secret">The API secret; stored encrypted, never returned.</param>
    public sealed record PaymentAccountRequest(string? Provider, string? AccountId, string? Secret);

    /// <summary>A campaign's definition (replaced as a whole on update).</summary>
    /// <param name="Texts">Localized texts; one in <paramref name="DefaultLanguage"/>.</param>
    /// <param name="DefaultLanguage">Fallback language.</param>
    /// <param name="Currency">ISO 4217.</param>
    /// <param name="FaceValue">Worth at the merchant, minor units.</param>
    /// <param name="Price">What buyers pay, minor units (0 ≤ price ≤ face value).</param>
    /// <param name="Kind">SingleUse (default) or StoredValue.</param>
    /// <param name="Supply">How many can be sold.</param>
    /// <param name="PerCustomerLimit">Most per customer (none when absent).</param>
    /// <param name="SalesStartAt">Sales window start.</param>
    /// <param name="SalesEndAt">Sales window end.</param>
    /// <param name="ValidityKind">FixedDate or DaysAfterPurchase; when absent, FixedDate if <paramref name="ValidUntil"/> is given.</param>
    /// <param name="ValidUntil">Last valid day (merchant time zone), for FixedDate.</param>
    /// <param name="ValidityDays">Days after purchase, for DaysAfterPurchase.</param>
    /// <param name="Transferable">May be gifted (default true).</param>
    /// <param name="Exchangeable">May be exchanged (default true).</param>
    public sealed record CampaignRequest(
        IReadOnlyList<CampaignText>? Texts,
        string? DefaultLanguage,
        string? Currency,
        long? FaceValue,
        long? Price,
        VoucherKind? Kind,
        int? Supply,
        int? PerCustomerLimit,
        DateTimeOffset? SalesStartAt,
        DateTimeOffset? SalesEndAt,
        ValidityKind? ValidityKind,
        DateOnly? ValidUntil,
        int? ValidityDays,
        bool? Transferable,
        bool? Exchangeable)
    {
        internal CampaignDefinition ToDefinition() => new(
            Texts ?? [],
            DefaultLanguage ?? "",
            Currency ?? "",
            FaceValue ?? 0,
            Price ?? 0,
            Kind ?? VoucherKind.SingleUse,
            Supply ?? 0,
            PerCustomerLimit,
            SalesStartAt,
            SalesEndAt,
            ValidityKind ?? (ValidUntil is null ? Core.Campaigns.ValidityKind.DaysAfterPurchase : Core.Campaigns.ValidityKind.FixedDate),
            ValidUntil,
            ValidityDays,
            Transferable ?? true,
            Exchangeable ?? true);
    }

    /// <summary>A code to preview or redeem.</summary>
    /// <param name="Code">The voucher code as printed or scanned (separators and case do not matter).</param>
    /// <param name="Amount">Minor units to redeem from a stored-value voucher; absent = all (single-use vouchers are redeemed whole).</param>
    /// <param name="Language">Language of the campaign name in the preview.</param>
    public sealed record RedeemRequest(string? Code, long? Amount, string? Language = null);

    /// <summary>A new API key.</summary>
    /// <param name="Name">A name to recognise it by ("Till 1").</param>
    public sealed record ApiKeyRequest(string? Name);

    /// <summary>Why a voucher is refunded.</summary>
    /// <param name="Reason">Shown in the books and to operators.</param>
    public sealed record RefundRequest(string? Reason);

    /// <summary>The connected payment account; the secret is never returned.</summary>
    public sealed record PaymentAccountView(string Provider, string AccountId, DateTimeOffset VerifiedAt);

    /// <summary>A member of the merchant.</summary>
    public sealed record MemberView(Guid UserId, string Email, MerchantRole Role, DateTimeOffset AddedAt);

    /// <summary>A merchant as its members see it.</summary>
    public sealed record MerchantView(
        Guid Id,
        string Name,
        string Email,
        string Country,
        string TimeZoneId,
        string Language,
        string? Address,
        string? City,
        double? Latitude,
        double? Longitude,
        KycStatus KycStatus,
        string? KycComment,
        bool Suspended,
        PaymentAccountView? PaymentAccount,
        IReadOnlyList<MemberView> Members,
        bool DailySummary)
    {
        /// <summary>From a merchant.</summary>
        public static MerchantView From(Merchant m)
        {
            ArgumentNullException.ThrowIfNull(m);
            return new(m.Id, m.Name, m.Email, m.Country, m.TimeZoneId, m.Language, m.Address, m.City, m.Latitude, m.Longitude, m.KycStatus, m.KycComment, m.SuspendedAt is not null,
                m.PaymentAccount is { } a ? new PaymentAccountView(a.Provider, a.AccountId, a.VerifiedAt) : null,
                m.Members.OrderBy(x => x.AddedAt).Select(x => new MemberView(x.UserId, x.Email, x.Role, x.AddedAt)).ToList(),
                m.DailySummary);
        }
    }

    /// <summary>A campaign as its merchant sees it: the customer view, every text, and the sales counters.</summary>
    public sealed record MerchantCampaignView(CampaignView Campaign, string DefaultLanguage, IReadOnlyList<CampaignText> Texts, int Reserved, int Issued, DateTimeOffset? TermsFrozenAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        /// <summary>From a campaign.</summary>
        public static MerchantCampaignView From(Campaign c, string? language)
        {
            ArgumentNullException.ThrowIfNull(c);
            return new(CampaignView.From(c, language ?? c.DefaultLanguage), c.DefaultLanguage,
                c.Translations.OrderBy(t => t.Language, StringComparer.Ordinal).Select(t => new CampaignText(t.Language, t.Name, t.Description, t.ImageUrl)).ToList(),
                c.Reserved, c.Issued, c.TermsFrozenAt, c.CreatedAt, c.UpdatedAt);
        }
    }

    /// <summary>An uploaded image.</summary>
    /// <param name="Id">Image id.</param>
    /// <param name="Url">Its public path, <c>/api/campaigns/{campaignId}/images/{imageId}</c>.</param>
    /// <param name="AbsoluteUrl">The same on this host, ready for a campaign text's imageUrl.</param>
    /// <param name="ContentType">The type found in its bytes.</param>
    /// <param name="Size">Bytes.</param>
    public sealed record ImageView(Guid Id, string Url, string AbsoluteUrl, string ContentType, int Size);

    /// <summary>What a redemption would do.</summary>
    public sealed record RedemptionPreviewView(Guid VoucherId, Guid CampaignId, string CampaignName, VoucherKind Kind, MoneyView Amount, MoneyView BalanceBefore, MoneyView BalanceAfter, DateTimeOffset ExpiresAt)
    {
        /// <summary>From a preview.</summary>
        public static RedemptionPreviewView From(RedemptionPreview p)
        {
            ArgumentNullException.ThrowIfNull(p);
            return new(p.VoucherId, p.CampaignId, p.CampaignName, p.Kind, MoneyView.From(p.Amount), MoneyView.From(p.BalanceBefore), MoneyView.From(p.BalanceAfter), p.ExpiresAt);
        }
    }

    /// <summary>A confirmed redemption.</summary>
    /// <param name="RedemptionId">Redemption (to reverse it).</param>
    /// <param name="VoucherId">Voucher.</param>
    /// <param name="Amount">Redeemed.</param>
    /// <param name="BalanceAfter">Left on the voucher.</param>
    /// <param name="At">When.</param>
    /// <param name="Replayed">True when Core answered a repeated idempotency key with the first receipt.</param>
    public sealed record RedemptionReceiptView(Guid RedemptionId, Guid VoucherId, MoneyView Amount, MoneyView BalanceAfter, DateTimeOffset At, bool Replayed)
    {
        /// <summary>From a receipt.</summary>
        public static RedemptionReceiptView From(RedemptionReceipt r)
        {
            ArgumentNullException.ThrowIfNull(r);
            return new(r.RedemptionId, r.VoucherId, MoneyView.From(r.Amount), MoneyView.From(r.BalanceAfter), r.At, r.Replayed);
        }
    }

    /// <summary>A redemption in the merchant's list.</summary>
    /// <param name="Id">Redemption.</param>
    /// <param name="VoucherId">Voucher.</param>
    /// <param name="Amount">Redeemed.</param>
    /// <param name="BalanceAfter">Left on the voucher afterwards.</param>
    /// <param name="RedeemedBy">Staff member or API key (<c>MerchantMember:{id}</c>, <c>ApiKey:{id}</c>).</param>
    /// <param name="At">When.</param>
    /// <param name="ReversedAt">When it was reversed, if it was.</param>
    public sealed record RedemptionView(Guid Id, Guid VoucherId, MoneyView Amount, MoneyView BalanceAfter, string RedeemedBy, DateTimeOffset At, DateTimeOffset? ReversedAt)
    {
        /// <summary>From a redemption.</summary>
        public static RedemptionView From(Redemption r)
        {
            ArgumentNullException.ThrowIfNull(r);
            return new(r.Id, r.VoucherId, MoneyView.From(r.Amount, r.Currency), MoneyView.From(r.BalanceAfter, r.Currency), r.RedeemedBy, r.At, r.ReversedAt);
        }
    }

    /// <summary>A paid order, as the merchant sees it (no customer data).</summary>
    public sealed record SaleView(Guid OrderId, Guid CampaignId, int Quantity, MoneyView UnitPrice, MoneyView UnitFaceValue, MoneyView Total, OrderStatus Status, DateTimeOffset? PaidAt)
    {
        /// <summary>From an order.</summary>
        public static SaleView From(Order o)
        {
            ArgumentNullException.ThrowIfNull(o);
            return new(o.Id, o.CampaignId, o.Quantity, MoneyView.From(o.UnitPrice, o.Currency), MoneyView.From(o.UnitFaceValue, o.Currency), MoneyView.From(o.Total), o.Status, o.PaidAt);
        }
    }

    /// <summary>An API key (never its secret).</summary>
    public sealed record ApiKeyView(Guid Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt);

    /// <summary>A new API key with its secret, shown this once: give it to the till as the <c>X-Api-Key</c> header.</summary>
    public sealed record CreatedApiKeyView(Guid Id, string Name, DateTimeOffset CreatedAt, string Secret);

    /// <summary>A refund.</summary>
    public sealed record RefundView(Guid Id, Guid? VoucherId, Guid OrderId, MoneyView Amount, string Reason, RefundStatus Status, DateTimeOffset CreatedAt)
    {
        /// <summary>From a refund.</summary>
        public static RefundView From(Refund r)
        {
            ArgumentNullException.ThrowIfNull(r);
            return new(r.Id, r.VoucherId, r.OrderId, MoneyView.From(r.Amount, r.Currency), r.Reason, r.Status, r.CreatedAt);
        }
    }

    private static async Task<Created<MerchantView>> RegisterAsync(MerchantRegistration request, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var merchant = await merchants.RegisterAsync(http.User.AsMember(), new RegisterMerchant(request.Name ?? "", request.Email ?? "", request.Country ?? "", request.TimeZoneId ?? "", request.Language ?? ""), cancellationToken);
        return TypedResults.Created($"/api/merchants/{merchant.Id}", MerchantView.From(merchant));
    }

    private static async Task<Ok<MerchantView>> GetAsync(Guid merchantId, HttpContext http, MerchantService merchants, CancellationToken cancellationToken) =>
        TypedResults.Ok(MerchantView.From(await merchants.GetAsync(http.User.AsMember(), merchantId, cancellationToken)));

    private static async Task<Ok<MerchantView>> UpdateProfileAsync(Guid merchantId, MerchantProfileRequest request, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var actor = http.User.AsMember();
        await merchants.UpdateProfileAsync(actor, merchantId, new MerchantProfile(request.Name ?? "", request.Email ?? "", request.TimeZoneId ?? "", request.Language ?? "", request.Address, request.City, request.Latitude, request.Longitude, request.DailySummary), cancellationToken);
        return TypedResults.Ok(MerchantView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Ok<MerchantView>> SubmitKycAsync(Guid merchantId, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsMember();
        await merchants.SubmitForReviewAsync(actor, merchantId, cancellationToken);
        return TypedResults.Ok(MerchantView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Ok<MerchantView>> AddMemberAsync(
        Guid merchantId,
        MemberRequest request,
        HttpContext http,
        MerchantService merchants,
        UserManager<OpenMavnUser> users,
        IOptions<OpenMavnApiOptions> options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var actor = http.User.AsMember();

        // Owners only past this point, so nobody else learns anything about accounts.
        await merchants.EnsureAccessAsync(actor, merchantId, MerchantRole.Owner, cancellationToken);
        string? invitationLink = null;
        OpenMavnUser? user;
        if (request.UserId is { } userId && userId != Guid.Empty)
        {
            user = await users.FindByIdAsync(userId.ToString())
                ?? throw new ValidationFailedException("userId", "No signed-up user has this id (they find it with GET /api/me).");
            if (request.Email is not null && !string.Equals(request.Email.Trim(), user.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw new ValidationFailedException("email", "This is not the email of that user.");
            }
        }
        else
        {
            // Invitation by email: an existing account is added as it is; a new person gets an account without a
            // password and a link to set one (an Identity password-reset code), sent through the outbox.
            if (!MerchantService.IsEmail(request.Email))
            {
                throw new ValidationFailedException("email", "Give the userId of a signed-up user, or the email address to invite.");
            }

            var email = request.Email!.Trim();
            user = await users.FindByEmailAsync(email);
            if (user is null)
            {
                // No password until the link is used, and the link only reaches this mailbox: holding it proves the
                // address, which Identity's resetPassword requires to be confirmed.
                user = new OpenMavnUser { Id = Guid.CreateVersion7(), UserName = email, Email = email, EmailConfirmed = true };
                var created = await users.CreateAsync(user);
                if (!created.Succeeded)
                {
                    throw new ValidationFailedException("email", string.Join(" ", created.Errors.Select(e => e.Description)));
                }

                var code = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(await users.GeneratePasswordResetTokenAsync(user)));
                invitationLink = options.Value.InvitationUrl
                    .Replace("{email}", Uri.EscapeDataString(email), StringComparison.Ordinal)
                    .Replace("{code}", Uri.EscapeDataString(code), StringComparison.Ordinal);
            }
        }

        await merchants.AddMemberAsync(actor, merchantId, user.Id, user.Email ?? request.Email ?? "", request.Role ?? MerchantRole.Staff, cancellationToken, invitationLink);
        return TypedResults.Ok(MerchantView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<NoContent> RemoveMemberAsync(Guid merchantId, Guid userId, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        await merchants.RemoveMemberAsync(http.User.AsMember(), merchantId, userId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<MerchantView>> ConnectPaymentAccountAsync(Guid merchantId, PaymentAccountRequest request, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var actor = http.User.AsMember();
        await merchants.ConnectPaymentAccountAsync(actor, merchantId, request.Provider ?? "", request.AccountId ?? "", request.Secret ?? "", cancellationToken);
        return TypedResults.Ok(MerchantView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Created<MerchantCampaignView>> CreateCampaignAsync(Guid merchantId, CampaignRequest request, string? language, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var campaign = await campaigns.CreateAsync(http.User.AsMember(), merchantId, request.ToDefinition(), cancellationToken);
        return TypedResults.Created($"/api/merchants/{merchantId}/campaigns/{campaign.Id}", MerchantCampaignView.From(campaign, language));
    }

    private static async Task<Ok<IReadOnlyList<MerchantCampaignView>>> ListCampaignsAsync(Guid merchantId, string? language, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        var all = await campaigns.ListForMerchantAsync(http.User.AsMember(), merchantId, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<MerchantCampaignView>>(all.Select(c => MerchantCampaignView.From(c, language)).ToList());
    }

    private static async Task<Ok<MerchantCampaignView>> GetCampaignAsync(Guid merchantId, Guid campaignId, string? language, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken) =>
        TypedResults.Ok(MerchantCampaignView.From(await campaigns.GetForMerchantAsync(http.User.AsMember(), merchantId, campaignId, cancellationToken), language));

    private static async Task<Ok<LedgerFeeQuote>> GetLedgerFeeAsync(Guid merchantId, Guid campaignId, HttpContext http, CampaignService campaigns, LedgerFeeQuotes quotes, CancellationToken cancellationToken)
    {
        var campaign = await campaigns.GetForMerchantAsync(http.User.AsMember(), merchantId, campaignId, cancellationToken);
        return TypedResults.Ok(await quotes.QuoteAsync(campaign, cancellationToken));
    }

    private static async Task<Ok<MerchantCampaignView>> UpdateCampaignAsync(Guid merchantId, Guid campaignId, CampaignRequest request, string? language, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var actor = http.User.AsMember();
        await campaigns.GetForMerchantAsync(actor, merchantId, campaignId, cancellationToken);
        await campaigns.UpdateAsync(actor, campaignId, request.ToDefinition(), cancellationToken);
        return TypedResults.Ok(MerchantCampaignView.From(await campaigns.GetForMerchantAsync(actor, merchantId, campaignId, cancellationToken), language));
    }

    private static async Task<Ok<MerchantCampaignView>> TransitionAsync(
        Guid merchantId,
        Guid campaignId,
        string? language,
        HttpContext http,
        CampaignService campaigns,
        Func<Actor, Guid, CancellationToken, Task> transition,
        CancellationToken cancellationToken)
    {
        var actor = http.User.AsMember();
        await campaigns.GetForMerchantAsync(actor, merchantId, campaignId, cancellationToken);
        await transition(actor, campaignId, cancellationToken);
        return TypedResults.Ok(MerchantCampaignView.From(await campaigns.GetForMerchantAsync(actor, merchantId, campaignId, cancellationToken), language));
    }

    private static async Task<Created<ImageView>> AddImageAsync(Guid merchantId, Guid campaignId, HttpContext http, CampaignService campaigns, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsMember();
        await merchants.EnsureAccessAsync(actor, merchantId, MerchantRole.Owner, cancellationToken);
        await campaigns.GetForMerchantAsync(actor, merchantId, campaignId, cancellationToken);

        // The form is read here rather than bound, so a body over the limit reaches the exception handler (413 with a code).
        var files = http.Request.HasFormContentType ? (await http.Request.ReadFormAsync(cancellationToken)).Files : null;
        if (files is not { Count: 1 })
        {
            throw new ValidationFailedException("file", "Send exactly one image file as multipart/form-data.");
        }

        // Read at most one byte past the limit: Core refuses anything larger, without this buffering a large upload.
        var file = files[0];
        await using var input = file.OpenReadStream();
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while (buffer.Length <= ImageMaxBytes && (read = await input.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, ImageMaxBytes + 1 - buffer.Length)), cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
        }

        var image = await campaigns.AddImageAsync(actor, campaignId, file.ContentType ?? "", buffer.ToArray(), cancellationToken);
        var url = $"/api/campaigns/{campaignId}/images/{image.Id}";
        return TypedResults.Created(url, new ImageView(image.Id, url, $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{url}", image.ContentType, image.Content.Length));
    }

    private static async Task<NoContent> DeleteImageAsync(Guid merchantId, Guid campaignId, Guid imageId, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        var actor = http.User.AsMember();
        await campaigns.GetForMerchantAsync(actor, merchantId, campaignId, cancellationToken);
        await campaigns.DeleteImageAsync(actor, campaignId, imageId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<RedemptionPreviewView>> PreviewAsync(Guid merchantId, RedeemRequest request, HttpContext http, RedemptionService redemptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return TypedResults.Ok(RedemptionPreviewView.From(await redemptions.PreviewAsync(http.User.AsMember(), merchantId, request.Code ?? "", request.Amount, request.Language, cancellationToken)));
    }

    private static async Task<Ok<RedemptionReceiptView>> RedeemAsync(
        Guid merchantId,
        RedeemRequest request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        RedemptionService redemptions,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return TypedResults.Ok(RedemptionReceiptView.From(await redemptions.RedeemAsync(http.User.AsMember(), merchantId, request.Code ?? "", request.Amount, idempotencyKey, cancellationToken)));
    }

    private static async Task<Ok<VoucherView>> ReverseAsync(Guid merchantId, Guid redemptionId, HttpContext http, RedemptionService redemptions, CancellationToken cancellationToken) =>
        TypedResults.Ok(VoucherView.From(await redemptions.ReverseAsync(http.User.AsMember(), merchantId, redemptionId, cancellationToken), showCode: false));

    private static async Task<Ok<IReadOnlyList<RedemptionView>>> ListRedemptionsAsync(Guid merchantId, DateTimeOffset? from, DateTimeOffset? to, int? skip, int? take, HttpContext http, RedemptionService redemptions, CancellationToken cancellationToken)
    {
        var list = await redemptions.ListAsync(http.User.AsMember(), merchantId, from, to, skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<RedemptionView>>(list.Select(RedemptionView.From).ToList());
    }

    private static async Task<FileContentHttpResult> ExportRedemptionsAsync(Guid merchantId, DateTimeOffset? from, DateTimeOffset? to, HttpContext http, RedemptionService redemptions, TimeProvider time, CancellationToken cancellationToken)
    {
        var actor = http.User.AsMember();
        var until = to ?? time.GetUtcNow();
        var csv = new Csv("redemptionId", "at", "voucherId", "amount", "currency", "balanceAfter", "redeemedBy", "reversedAt");
        for (var skip = 0; ; skip += ExportPageSize)
        {
            var page = await redemptions.ListAsync(actor, merchantId, from, until, skip, ExportPageSize, cancellationToken);
            foreach (var r in page)
            {
                csv.Row(r.Id, r.At, r.VoucherId, r.Amount, r.Currency, r.BalanceAfter, r.RedeemedBy, r.ReversedAt);
            }

            if (page.Count < ExportPageSize)
            {
                break;
            }
        }

        return csv.ToFile($"redemptions-{merchantId:N}.csv");
    }

    private static async Task<Ok<IReadOnlyList<SaleView>>> ListSalesAsync(Guid merchantId, DateTimeOffset? from, DateTimeOffset? to, int? skip, int? take, HttpContext http, PurchaseService purchases, CancellationToken cancellationToken)
    {
        var sales = await purchases.ListSalesAsync(http.User.AsMember(), merchantId, from, to, skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<SaleView>>(sales.Select(SaleView.From).ToList());
    }

    private static async Task<FileContentHttpResult> ExportSalesAsync(Guid merchantId, DateTimeOffset? from, DateTimeOffset? to, HttpContext http, PurchaseService purchases, CampaignService campaigns, TimeProvider time, CancellationToken cancellationToken)
    {
        var actor = http.User.AsMember();
        var until = to ?? time.GetUtcNow();
        var names = (await campaigns.ListForMerchantAsync(actor, merchantId, cancellationToken)).ToDictionary(c => c.Id, c => c.Localize(null).Name);
        var csv = new Csv("orderId", "paidAt", "campaignId", "campaignName", "quantity", "unitPrice", "unitFaceValue", "amount", "currency", "status");
        for (var skip = 0; ; skip += ExportPageSize)
        {
            var page = await purchases.ListSalesAsync(actor, merchantId, from, until, skip, ExportPageSize, cancellationToken);
            foreach (var o in page)
            {
                csv.Row(o.Id, o.PaidAt, o.CampaignId, names.GetValueOrDefault(o.CampaignId), o.Quantity, o.UnitPrice, o.UnitFaceValue, o.Amount, o.Currency, o.Status);
            }

            if (page.Count < ExportPageSize)
            {
                break;
            }
        }

        return csv.ToFile($"sales-{merchantId:N}.csv");
    }

    private static async Task<Ok<IReadOnlyList<MerchantBalance>>> GetBalanceAsync(Guid merchantId, HttpContext http, MerchantAccountService accounts, CancellationToken cancellationToken) =>
        TypedResults.Ok(await accounts.GetBalancesAsync(http.User.AsMember(), merchantId, cancellationToken));

    private static async Task<Created<CreatedApiKeyView>> CreateApiKeyAsync(Guid merchantId, ApiKeyRequest request, HttpContext http, ApiKeyService keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var created = await keys.CreateAsync(http.User.AsMember(), merchantId, request.Name ?? "", cancellationToken);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/merchants/{merchantId}/api-keys/{created.Key.Id}", new CreatedApiKeyView(created.Key.Id, created.Key.Name, created.Key.CreatedAt, created.Secret));
    }

    private static async Task<Ok<IReadOnlyList<ApiKeyView>>> ListApiKeysAsync(Guid merchantId, HttpContext http, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var list = await keys.ListAsync(http.User.AsMember(), merchantId, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ApiKeyView>>(list.Select(k => new ApiKeyView(k.Id, k.Name, k.CreatedAt, k.RevokedAt, k.LastUsedAt)).ToList());
    }

    private static async Task<NoContent> RevokeApiKeyAsync(Guid merchantId, Guid keyId, HttpContext http, ApiKeyService keys, CancellationToken cancellationToken)
    {
        await keys.RevokeAsync(http.User.AsMember(), merchantId, keyId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<RefundView>> RefundAsync(
        Guid merchantId,
        Guid voucherId,
        RefundRequest request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        VoucherService vouchers,
        MerchantService merchants,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var actor = http.User.AsMember();

        // Outsiders are refused before anything is looked up; then a voucher of another merchant is not found here.
        await merchants.EnsureAccessAsync(actor, merchantId, MerchantRole.Owner, cancellationToken);
        var voucher = await vouchers.GetAsync(actor, voucherId, cancellationToken);
        if (voucher.Voucher.MerchantId != merchantId)
        {
            throw new NotFoundException("voucher.not_found", "No such voucher.");
        }

        return TypedResults.Ok(RefundView.From(await vouchers.RefundAsync(actor, voucherId, request.Reason ?? "", cancellationToken)));
    }
}
