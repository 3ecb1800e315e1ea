using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Audit;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>
/// The admin API for platform operators under <c>/api/admin</c> (role Admin): merchant KYC review and suspension,
/// campaign moderation, voucher lookup and refunds, the audit log, platform statistics and failed outbox messages.
/// Every successful non-GET request is written to the audit log by one filter on the group.
/// </summary>
public static class AdminApi
{
    /// <summary>The group's path.</summary>
    public const string Prefix = "/api/admin";

    /// <summary>Maps the group.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // DisableCookieRedirect: a caller without the right cookie gets 401/403, never a redirect to a login page, also
        // from endpoints that do not write JSON (statistics.csv), which ASP.NET Core would otherwise treat as pages.
        var admin = app.MapGroup(Prefix).WithTags("Admin").RequireAuthorization(Policies.Admin).DisableCookieRedirect().AddEndpointFilter<AdminAuditFilter>();

        admin.MapGet("/merchants", ListMerchantsAsync).WithName("AdminListMerchants").WithSummary("Merchants, newest first, optionally by KYC status; paged.");
        admin.MapGet("/merchants/{merchantId:guid}", GetMerchantAsync).WithName("AdminGetMerchant").WithSummary("One merchant with its members, payment account (never the secret) and KYC history.");
        admin.MapPost("/merchants/{merchantId:guid}/kyc/approve", ApproveAsync).WithName("AdminApproveMerchant").WithSummary("Approves a merchant under review (optional comment).");
        admin.MapPost("/merchants/{merchantId:guid}/kyc/reject", RejectAsync).WithName("AdminRejectMerchant").WithSummary("Rejects a merchant under review; a comment is required.");
        admin.MapPost("/merchants/{merchantId:guid}/kyc/request-data", RequestDataAsync).WithName("AdminRequestMerchantData").WithSummary("Asks a merchant under review for more data; a comment is required.");
        admin.MapPost("/merchants/{merchantId:guid}/suspend", SuspendAsync).WithName("AdminSuspendMerchant").WithSummary("Suspends a merchant: nothing is sold or redeemed until it is reinstated. A reason is required.");
        admin.MapPost("/merchants/{merchantId:guid}/reinstate", ReinstateAsync).WithName("AdminReinstateMerchant").WithSummary("Lifts a merchant's suspension.");

        admin.MapGet("/campaigns", ListCampaignsAsync).WithName("AdminListCampaigns").WithSummary("Campaigns in every state, optionally of one merchant, newest first; paged.");
        admin.MapPost("/campaigns/{campaignId:guid}/pause", PauseCampaignAsync).WithName("AdminPauseCampaign").WithSummary("Pauses a published campaign (optional reason, kept in the audit log).");
        admin.MapPost("/campaigns/{campaignId:guid}/end", EndCampaignAsync).WithName("AdminEndCampaign").WithSummary("Ends a published or paused campaign; vouchers already sold stay valid.");
        admin.MapPost("/campaigns/{campaignId:guid}/cancel", CancelCampaignAsync).WithName("AdminCancelCampaign").WithSummary("Cancels a campaign that has neither reservations nor sales.");

        admin.MapGet("/vouchers/by-code/{code}", FindVoucherByCodeAsync)
            .LimitCodeLookups()
            .WithName("AdminFindVoucherByCode").WithSummary("Finds a voucher by its code (any grouping or case) with its full history.");
        admin.MapGet("/vouchers/{voucherId:guid}", GetVoucherAsync).WithName("AdminGetVoucher").WithSummary("One voucher with its full history and ledger receipts.");
        admin.MapPost("/vouchers/{voucherId:guid}/refund", RefundVoucherAsync).RequireIdempotencyKey()
            .WithName("AdminRefundVoucher").WithSummary("Refunds an unredeemed voucher in full; the money goes back through the payment provider.");

        admin.MapGet("/audit", ListAuditAsync).WithName("AdminListAudit").WithSummary("The operators' audit log, newest first; paged.");

        admin.MapGet("/statistics", GetStatisticsAsync).WithName("AdminGetStatistics")
            .WithSummary("Platform figures per currency for [from, to) (default: the last 30 days): sold, collected, redeemed, breakage, refunded, outstanding at the end, fees.");
        admin.MapGet("/statistics.csv", GetStatisticsCsvAsync).WithName("AdminGetStatisticsCsv")
            .WithSummary("The same figures as CSV (RFC 4180, amounts in major units), safe to open in a spreadsheet.")
            .Produces<string>(StatusCodes.Status200OK, "text/csv");

        admin.MapGet("/outbox/failed", ListFailedOutboxAsync).WithName("AdminListFailedOutbox").WithSummary("Outbox messages delivery gave up on (emails, refunds, ledger writes), newest first.");
        admin.MapPost("/ledger/reconciliations", RunReconciliationAsync).ProducesProblem(StatusCodes.Status409Conflict).WithName("AdminRunLedgerReconciliation")
            .WithSummary("Compares the database with the ledger now, every voucher and campaign, and returns the report (409 while another reconciliation runs).");
        admin.MapGet("/ledger/reconciliations", ListReconciliationsAsync).WithName("AdminListLedgerReconciliations")
            .WithSummary("Reconciliation reports without their differences, latest first; paged.");
        admin.MapGet("/ledger/reconciliations/{reportId:guid}", GetReconciliationAsync).WithName("AdminGetLedgerReconciliation")
            .WithSummary("One reconciliation report with the differences it lists (at most 1000; all are counted).");

        admin.MapPost("/ledger/vouchers/{voucherId:guid}/retry", RetryLedgerWritesAsync).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("AdminRetryLedgerWrites")
            .WithSummary("Sends a voucher's failed ledger writes again, in order, once their cause is fixed (chain ledgers; 409 when the ledger retries through the outbox or nothing failed).");

        admin.MapPost("/outbox/{messageId:long}/retry", RetryOutboxAsync).WithName("AdminRetryOutbox").WithSummary("Queues a failed outbox message again, due now with its attempts reset.");
    }

    /// <summary>A reviewer's optional comment.</summary>
    /// <param name="Comment">Shown to the merchant (rejection reason, data requested); 1–2000 characters.</param>
    public sealed record CommentRequest(string? Comment) : IAuditedRequest
    {
        string? IAuditedRequest.AuditDetails => Comment;
    }

    /// <summary>A reason for an operator's action.</summary>
    /// <param name="Reason">Why.</param>
    public sealed record ReasonRequest(string? Reason) : IAuditedRequest
    {
        string? IAuditedRequest.AuditDetails => Reason;
    }

    /// <summary>A merchant as operators see it.</summary>
    public sealed record MerchantAdminView(
        Guid Id,
        string Name,
        string Email,
        string Country,
        string TimeZoneId,
        string Language,
        string? City,
        KycStatus KycStatus,
        string? KycComment,
        DateTimeOffset? SuspendedAt,
        string? SuspensionReason,
        string? PaymentProvider,
        DateTimeOffset CreatedAt)
    {
        /// <summary>From a merchant.</summary>
        public static MerchantAdminView From(Merchant m)
        {
            ArgumentNullException.ThrowIfNull(m);
            return new(m.Id, m.Name, m.Email, m.Country, m.TimeZoneId, m.Language, m.City, m.KycStatus, m.KycComment, m.SuspendedAt, m.SuspensionReason, m.PaymentAccount?.Provider, m.CreatedAt);
        }
    }

    /// <summary>A member of a merchant.</summary>
    public sealed record MemberView(Guid UserId, string Email, MerchantRole Role, DateTimeOffset AddedAt);

    /// <summary>The connected payment account (the secret is never shown).</summary>
    public sealed record PaymentAccountView(string Provider, string AccountId, DateTimeOffset VerifiedAt);

    /// <summary>One step of a KYC review.</summary>
    public sealed record KycReviewView(KycStatus From, KycStatus To, string? Comment, string Actor, DateTimeOffset At);

    /// <summary>A merchant with its members, payment account and KYC history (oldest first).</summary>
    public sealed record MerchantDetailView(MerchantAdminView Merchant, IReadOnlyList<MemberView> Members, PaymentAccountView? PaymentAccount, IReadOnlyList<KycReviewView> KycHistory);

    /// <summary>A refund.</summary>
    public sealed record RefundView(Guid Id, Guid OrderId, Guid? VoucherId, Guid MerchantId, MoneyView Amount, RefundStatus Status, string Reason, DateTimeOffset CreatedAt)
    {
        /// <summary>From a refund.</summary>
        public static RefundView From(Refund r)
        {
            ArgumentNullException.ThrowIfNull(r);
            return new(r.Id, r.OrderId, r.VoucherId, r.MerchantId, MoneyView.From(r.Amount, r.Currency), r.Status, r.Reason, r.CreatedAt);
        }
    }

    /// <summary>An audit log entry.</summary>
    /// <param name="Id">Identifier.</param>
    /// <param name="ActorId">The operator.</param>
    /// <param name="Action">What was done, from the route: <c>merchants.kyc.approve</c>, <c>vouchers.refund</c>, …</param>
    /// <param name="Target">What it was done to: <c>merchants/{id}</c>, <c>vouchers/{id}</c>, …</param>
    /// <param name="Details">The comment or reason given.</param>
    /// <param name="Outcome">HTTP status of the response.</param>
    /// <param name="At">When.</param>
    public sealed record AuditEntryView(long Id, Guid ActorId, string Action, string Target, string? Details, int Outcome, DateTimeOffset At);

    /// <summary>Figures of one currency.</summary>
    public sealed record CurrencyStatisticsView(string Currency, MoneyView Sold, MoneyView Collected, MoneyView Redeemed, MoneyView Breakage, MoneyView Refunded, MoneyView Outstanding, MoneyView Fees)
    {
        /// <summary>From the statistics of one currency.</summary>
        public static CurrencyStatisticsView From(CurrencyStatistics s)
        {
            ArgumentNullException.ThrowIfNull(s);
            MoneyView M(long amount) => MoneyView.From(amount, s.Currency);
            return new(s.Currency, M(s.Sold), M(s.Collected), M(s.Redeemed), M(s.Breakage), M(s.Refunded), M(s.Outstanding), M(s.Fees));
        }
    }

    /// <summary>Platform figures for [<see cref="From"/>, <see cref="To"/>).</summary>
    public sealed record StatisticsView(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<CurrencyStatisticsView> Currencies);

    /// <summary>An outbox message delivery gave up on.</summary>
    public sealed record FailedOutboxMessageView(long Id, string Type, int Attempts, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset FailedAt);

    /// <summary>The ledger writes an operator queued again.</summary>
    /// <param name="EventIds">The voucher events sent again, in their order.</param>
    public sealed record LedgerRetryView(IReadOnlyList<Guid> EventIds);

    /// <summary>A reconciliation report without its differences.</summary>
    /// <param name="Id">Identifier.</param>
    /// <param name="Ledger">The ledger compared.</param>
    /// <param name="Trigger"><c>scheduled</c> or <c>manual</c>.</param>
    /// <param name="StartedAt">When it started.</param>
    /// <param name="FinishedAt">When it finished; null while running.</param>
    /// <param name="VouchersChecked">Vouchers compared.</param>
    /// <param name="CampaignsChecked">Campaigns whose counts were compared.</param>
    /// <param name="InFlight">Vouchers with an event still on its way to the ledger (not differences).</param>
    /// <param name="DifferenceCount">Differences found.</param>
    /// <param name="Error">Why the ledger could not be compared (unreachable, cannot be read back), if so.</param>
    public sealed record LedgerReconciliationSummaryView(
        Guid Id,
        string Ledger,
        string Trigger,
        DateTimeOffset StartedAt,
        DateTimeOffset? FinishedAt,
        long VouchersChecked,
        long CampaignsChecked,
        long InFlight,
        long DifferenceCount,
        string? Error)
    {
        /// <summary>From a report.</summary>
        public static LedgerReconciliationSummaryView From(LedgerReconciliationReport r)
        {
            ArgumentNullException.ThrowIfNull(r);
            return new(r.Id, r.Ledger, r.Trigger, r.StartedAt, r.FinishedAt, r.VouchersChecked, r.CampaignsChecked, r.InFlight, r.DifferenceCount, r.Error);
        }
    }

    /// <summary>A reconciliation report with the differences it lists.</summary>
    /// <param name="Report">The report.</param>
    /// <param name="Differences">The first differences found (at most 1000; <c>DifferenceCount</c> counts all).</param>
    public sealed record LedgerReconciliationView(LedgerReconciliationSummaryView Report, IReadOnlyList<LedgerDifference> Differences)
    {
        /// <summary>From a report.</summary>
        public static LedgerReconciliationView From(LedgerReconciliationReport r)
        {
            ArgumentNullException.ThrowIfNull(r);
            return new(LedgerReconciliationSummaryView.From(r), r.Differences());
        }
    }

    private static async Task<Ok<IReadOnlyList<MerchantAdminView>>> ListMerchantsAsync(HttpContext http, MerchantService merchants, KycStatus? kycStatus, int? skip, int? take, CancellationToken cancellationToken)
    {
        var found = await merchants.ListAsync(http.User.AsAdmin(), kycStatus, skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<MerchantAdminView>>(found.Select(MerchantAdminView.From).ToList());
    }

    private static async Task<Ok<MerchantDetailView>> GetMerchantAsync(Guid merchantId, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsAdmin();
        var merchant = await merchants.GetAsync(actor, merchantId, cancellationToken);
        var history = await merchants.GetKycHistoryAsync(actor, merchantId, cancellationToken);
        return TypedResults.Ok(new MerchantDetailView(
            MerchantAdminView.From(merchant),
            merchant.Members.OrderBy(m => m.AddedAt).Select(m => new MemberView(m.UserId, m.Email, m.Role, m.AddedAt)).ToList(),
            merchant.PaymentAccount is { } account ? new PaymentAccountView(account.Provider, account.AccountId, account.VerifiedAt) : null,
            history.Select(r => new KycReviewView(r.From, r.To, r.Comment, r.Actor, r.At)).ToList()));
    }

    private static async Task<Ok<MerchantAdminView>> ApproveAsync(Guid merchantId, [FromBody] CommentRequest? request, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsAdmin();
        await merchants.ApproveAsync(actor, merchantId, string.IsNullOrWhiteSpace(request?.Comment) ? null : request.Comment.Trim(), cancellationToken);
        return TypedResults.Ok(MerchantAdminView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Ok<MerchantAdminView>> RejectAsync(Guid merchantId, [FromBody] CommentRequest? request, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsAdmin();
        await merchants.RejectAsync(actor, merchantId, request?.Comment ?? "", cancellationToken);
        return TypedResults.Ok(MerchantAdminView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Ok<MerchantAdminView>> RequestDataAsync(Guid merchantId, [FromBody] CommentRequest? request, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsAdmin();
        await merchants.RequestDataAsync(actor, merchantId, request?.Comment ?? "", cancellationToken);
        return TypedResults.Ok(MerchantAdminView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Ok<MerchantAdminView>> SuspendAsync(Guid merchantId, [FromBody] ReasonRequest? request, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsAdmin();
        await merchants.SuspendAsync(actor, merchantId, request?.Reason ?? "", cancellationToken);
        return TypedResults.Ok(MerchantAdminView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Ok<MerchantAdminView>> ReinstateAsync(Guid merchantId, HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var actor = http.User.AsAdmin();
        await merchants.ReinstateAsync(actor, merchantId, cancellationToken);
        return TypedResults.Ok(MerchantAdminView.From(await merchants.GetAsync(actor, merchantId, cancellationToken)));
    }

    private static async Task<Ok<IReadOnlyList<CampaignView>>> ListCampaignsAsync(HttpContext http, CampaignService campaigns, Guid? merchantId, string? language, int? skip, int? take, CancellationToken cancellationToken)
    {
        var found = await campaigns.ListAllAsync(http.User.AsAdmin(), merchantId, skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<CampaignView>>(found.Select(c => CampaignView.From(c, language)).ToList());
    }

    private static async Task<Ok<CampaignView>> PauseCampaignAsync(Guid campaignId, [FromBody] ReasonRequest? request, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        await campaigns.PauseAsync(http.User.AsAdmin(), campaignId, cancellationToken);
        return TypedResults.Ok(CampaignView.From(await campaigns.GetAsync(campaignId, cancellationToken), null));
    }

    private static async Task<Ok<CampaignView>> EndCampaignAsync(Guid campaignId, [FromBody] ReasonRequest? request, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        await campaigns.EndAsync(http.User.AsAdmin(), campaignId, cancellationToken);
        return TypedResults.Ok(CampaignView.From(await campaigns.GetAsync(campaignId, cancellationToken), null));
    }

    private static async Task<Ok<CampaignView>> CancelCampaignAsync(Guid campaignId, [FromBody] ReasonRequest? request, HttpContext http, CampaignService campaigns, CancellationToken cancellationToken)
    {
        await campaigns.CancelAsync(http.User.AsAdmin(), campaignId, cancellationToken);
        return TypedResults.Ok(CampaignView.From(await campaigns.GetAsync(campaignId, cancellationToken), null));
    }

    private static async Task<Ok<VoucherDetailView>> FindVoucherByCodeAsync(string code, HttpContext http, VoucherService vouchers, CancellationToken cancellationToken) =>
        TypedResults.Ok(VoucherDetailView.From(await vouchers.FindByCodeAsync(http.User.AsAdmin(), code, cancellationToken)));

    private static async Task<Ok<VoucherDetailView>> GetVoucherAsync(Guid voucherId, HttpContext http, VoucherService vouchers, CancellationToken cancellationToken) =>
        TypedResults.Ok(VoucherDetailView.From(await vouchers.GetAsync(http.User.AsAdmin(), voucherId, cancellationToken)));

    private static async Task<Ok<RefundView>> RefundVoucherAsync(
        Guid voucherId,
        [FromBody] ReasonRequest? request,
        [FromHeader(Name = "Idempotency-Key")] string idempotencyKey,
        HttpContext http,
        VoucherService vouchers,
        CancellationToken cancellationToken)
    {
        // The key is handled by the idempotency filter (a replay gets the first response); it is a parameter for OpenAPI.
        var refund = await vouchers.RefundAsync(http.User.AsAdmin(), voucherId, request?.Reason ?? "", cancellationToken);
        return TypedResults.Ok(RefundView.From(refund));
    }

    private static async Task<Ok<IReadOnlyList<AuditEntryView>>> ListAuditAsync(HttpContext http, AuditLog audit, int? skip, int? take, CancellationToken cancellationToken)
    {
        var entries = await audit.ListAsync(http.User.AsAdmin(), skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AuditEntryView>>(entries.Select(e => new AuditEntryView(e.Id, e.ActorId, e.Action, e.Target, e.Details, e.Outcome, e.At)).ToList());
    }

    private static async Task<Ok<StatisticsView>> GetStatisticsAsync(HttpContext http, PlatformStatistics statistics, TimeProvider time, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var (start, end) = Period(time, from, to);
        var figures = await statistics.GetAsync(http.User.AsAdmin(), start, end, cancellationToken);
        return TypedResults.Ok(new StatisticsView(start, end, figures.Select(CurrencyStatisticsView.From).ToList()));
    }

    private static async Task<FileContentHttpResult> GetStatisticsCsvAsync(HttpContext http, PlatformStatistics statistics, TimeProvider time, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var (start, end) = Period(time, from, to);
        var figures = await statistics.GetAsync(http.User.AsAdmin(), start, end, cancellationToken);
        var csv = StatisticsCsv.Write(start, end, figures);
        var name = string.Create(CultureInfo.InvariantCulture, $"openmavn-statistics-{start.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{end.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.csv");
        return TypedResults.File(Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", name);
    }

    private static async Task<Ok<IReadOnlyList<FailedOutboxMessageView>>> ListFailedOutboxAsync(HttpContext http, OutboxAdministration outbox, int? skip, int? take, CancellationToken cancellationToken)
    {
        var failed = await outbox.ListFailedAsync(http.User.AsAdmin(), skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<FailedOutboxMessageView>>(failed.Select(m => new FailedOutboxMessageView(m.Id, m.Type, m.Attempts, m.LastError, m.CreatedAt, m.FailedAt)).ToList());
    }

    private static async Task<NoContent> RetryOutboxAsync(long messageId, HttpContext http, OutboxAdministration outbox, CancellationToken cancellationToken)
    {
        await outbox.RetryAsync(http.User.AsAdmin(), messageId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<LedgerRetryView>> RetryLedgerWritesAsync(Guid voucherId, HttpContext http, LedgerRetries retries, CancellationToken cancellationToken) =>
        TypedResults.Ok(new LedgerRetryView(await retries.RetryVoucherAsync(http.User.AsAdmin(), voucherId, cancellationToken)));

    private static async Task<Created<LedgerReconciliationView>> RunReconciliationAsync(HttpContext http, LedgerReconciliation reconciliation, CancellationToken cancellationToken)
    {
        var report = await reconciliation.RunAsync(http.User.AsAdmin(), cancellationToken);
        return TypedResults.Created($"{Prefix}/ledger/reconciliations/{report.Id}", LedgerReconciliationView.From(report));
    }

    private static async Task<Ok<IReadOnlyList<LedgerReconciliationSummaryView>>> ListReconciliationsAsync(HttpContext http, LedgerReconciliation reconciliation, int? skip, int? take, CancellationToken cancellationToken)
    {
        var reports = await reconciliation.ListAsync(http.User.AsAdmin(), skip ?? 0, take ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<LedgerReconciliationSummaryView>>(reports.Select(LedgerReconciliationSummaryView.From).ToList());
    }

    private static async Task<Ok<LedgerReconciliationView>> GetReconciliationAsync(Guid reportId, HttpContext http, LedgerReconciliation reconciliation, CancellationToken cancellationToken) =>
        TypedResults.Ok(LedgerReconciliationView.From(await reconciliation.GetAsync(http.User.AsAdmin(), reportId, cancellationToken)));

    private static (DateTimeOffset From, DateTimeOffset To) Period(TimeProvider time, DateTimeOffset? from, DateTimeOffset? to)
    {
        var end = to ?? time.GetUtcNow();
        return (from ?? end.AddDays(-30), end);
    }
}

/// <summary>A request body that carries what the audit log keeps as the entry's details (a comment or reason; never a secret).</summary>
internal interface IAuditedRequest
{
    string? AuditDetails { get; }
}

/// <summary>
/// Writes every successful non-GET request of the admin group to the audit log: the action and target come from the
/// route (<c>POST /api/admin/merchants/{id}/kyc/approve</c> → <c>merchants.kyc.approve</c> on <c>merchants/{id}</c>),
/// the details from a body that is an <see cref="IAuditedRequest"/>. A new admin endpoint is audited without further
/// code. Failed requests change nothing and are not recorded; an idempotent replay is not recorded twice.
/// </summary>
internal sealed class AdminAuditFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var result = await next(context);
        var http = context.HttpContext;
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method)
            || http.Response.Headers.ContainsKey("Idempotent-Replayed"))
        {
            return result;
        }

        var status = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        if (status is < 200 or > 299)
        {
            return result;
        }

        var (action, target) = Describe(http);
        var details = context.Arguments.OfType<IAuditedRequest>().Select(r => r.AuditDetails).FirstOrDefault(d => !string.IsNullOrWhiteSpace(d))?.Trim();

        // Its own scope (a clean unit of work), and not cancelled with the request: the action has already happened.
        await using var scope = http.RequestServices.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AuditLog>().RecordAsync(http.User.AsAdmin(), action, target, details, status, CancellationToken.None);
        return result;
    }

    internal static (string Action, string Target) Describe(HttpContext http)
    {
        var pattern = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern;
        if (pattern is null)
        {
            return (http.Request.Method.ToLowerInvariant(), http.Request.Path.Value ?? "");
        }

        var prefix = RoutePatternFactory.Parse(AdminApi.Prefix).PathSegments.Count;
        var literals = new List<string>();
        var path = new List<string>();
        var target = "";
        foreach (var segment in pattern.PathSegments.Skip(prefix))
        {
            var text = new StringBuilder();
            var hasParameter = false;
            foreach (var part in segment.Parts)
            {
                switch (part)
                {
                    case RoutePatternLiteralPart literal:
                        text.Append(literal.Content);
                        break;
                    case RoutePatternSeparatorPart separator:
                        text.Append(separator.Content);
                        break;
                    case RoutePatternParameterPart parameter:
                        hasParameter = true;
                        text.Append(http.Request.RouteValues.TryGetValue(parameter.Name, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) : "");
                        break;
                }
            }

            path.Add(text.ToString());
            if (hasParameter)
            {
                target = string.Join('/', path);
            }
            else
            {
                literals.Add(text.ToString());
            }
        }

        return (string.Join('.', literals), target.Length > 0 ? target : string.Join('/', path));
    }
}

/// <summary>
/// Statistics as CSV (RFC 4180). Text cells that a spreadsheet would run as a formula (starting with <c>= + - @</c>,
/// tab or carriage return) are prefixed with an apostrophe (OWASP "CSV injection"); amounts are plain numbers.
/// </summary>
internal static class StatisticsCsv
{
    public static readonly string[] Header = ["currency", "from", "to", "sold", "collected", "redeemed", "breakage", "refunded", "outstanding", "fees"];

    public static string Write(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<CurrencyStatistics> figures)
    {
        var csv = new StringBuilder();
        csv.Append(string.Join(',', Header.Select(Cell))).Append("\r\n");
        foreach (var f in figures)
        {
            string[] row =
            [
                Cell(f.Currency),
                Cell(from.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
                Cell(to.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
                Amount(f.Sold, f.Currency), Amount(f.Collected, f.Currency), Amount(f.Redeemed, f.Currency), Amount(f.Breakage, f.Currency),
                Amount(f.Refunded, f.Currency), Amount(f.Outstanding, f.Currency), Amount(f.Fees, f.Currency),
            ];
            csv.Append(string.Join(',', row)).Append("\r\n");
        }

        return csv.ToString();
    }

    /// <summary>An amount in major units with the currency's digits, e.g. <c>45.00</c> or <c>-3.50</c>: a number, never a formula.</summary>
    public static string Amount(long minor, string currency)
    {
        var digits = Currencies.MinorDigits(currency);
        var scale = 1m;
        for (var i = 0; i < digits; i++)
        {
            scale *= 10;
        }

        var major = minor / scale;
        return major.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>A text cell: neutralised when a spreadsheet would read it as a formula, quoted when it holds a comma, quote or line break.</summary>
    public static string Cell(string? value) => Csv.Cell(value);
}
