using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using Xunit.Abstractions;

namespace OpenMavn.AspNetCore.Tests;

/// <summary>
/// Who may call what: every endpoint of the host × every kind of caller, each cell with the expected outcome.
/// The endpoints come from the running app, so an endpoint without a row fails <see cref="Every_endpoint_has_a_row_and_every_row_an_endpoint"/>.
/// To add an endpoint, add ONE line to <see cref="Rows"/> (and, if its route has a new parameter, a value in
/// <see cref="MatrixWorld.RouteValues"/>).
/// </summary>
public sealed class AuthorizationMatrixTests(MatrixFixture fixture, ITestOutputHelper output) : IClassFixture<MatrixFixture>
{
    /// <summary>
    /// The matrix. Route parameters are filled from <see cref="MatrixWorld.RouteValues"/>: every resource belongs to
    /// the "A" side of the world (merchant A, its owner, staff and API key; customer A and A's voucher); the "other"
    /// callers belong to merchant B or are customer B. Rows run in this order against one shared world.
    /// </summary>
    public static readonly IReadOnlyList<Row> Rows =
    [
        // Identity (MapIdentityApi): public, except /manage which needs a signed-in user.
        new("POST", "/api/auth/register", Access.Public, w => new { email = $"m{Guid.NewGuid():N}@example.ch", password = ApiHost.Password }),
        new("POST", "/api/auth/login", Access.Public, w => new { email = w.CustomerEmail, password = ApiHost.Password }),
        new("POST", "/api/auth/refresh", Access.Public, w => new { refreshToken = w.RefreshToken }),
        new("GET", "/api/auth/confirmEmail", Access.Public, Url: w => $"/api/auth/confirmEmail?userId={w.Ids[Caller.Customer]}&code={w.EmailConfirmationCode}"),
        new("POST", "/api/auth/resendConfirmationEmail", Access.Public, w => new { email = w.CustomerEmail }),
        new("POST", "/api/auth/forgotPassword", Access.Public, w => new { email = w.CustomerEmail }),
        new("POST", "/api/auth/resetPassword", Access.Public, w => new { email = w.CustomerEmail, resetCode = "not-a-code", newPassword = "another-password-1" }),
        new("POST", "/api/auth/manage/2fa", Access.Users, w => new { }),
        new("GET", "/api/auth/manage/info", Access.Users),
        new("POST", "/api/auth/manage/info", Access.Users, w => new { }),
        new("GET", "/api/me", Access.Users),

        // Catalogue and customer API.
        new("GET", "/api/campaigns/", Access.Public),
        new("GET", "/api/campaigns/{campaignId:guid}", Access.Public),
        new("PUT", "/api/customer/profile", Access.Users, w => new { displayName = "Matrix", language = "en" }),
        new("POST", "/api/customer/orders", Access.Users, w => new { campaignId = w.CampaignId, quantity = 1 }),
        new("GET", "/api/customer/vouchers", Access.Users),
        new("GET", "/api/customer/vouchers/{voucherId:guid}", Access.CustomerOwnsIt),
        new("GET", "/api/customer/vouchers/{voucherId:guid}/qr.png", Access.CustomerOwnsIt),
        new("GET", "/api/customer/vouchers/{voucherId:guid}/qr.svg", Access.CustomerOwnsIt),
        new("GET", "/api/customer/profile", Access.Users),
        new("GET", "/api/customer/orders", Access.Users),
        new("GET", "/api/customer/orders/{orderId:guid}", Access.CustomerOwnsIt),
        new("GET", "/api/campaigns/{campaignId:guid}/images/{imageId:guid}", Access.Public),
        new("POST", "/api/customer/devices", Access.Users, w => new { token = $"matrix-{Guid.NewGuid():N}", platform = "android" }),
        new("GET", "/api/customer/devices", Access.Users),
        new("DELETE", "/api/customer/devices/{deviceId:guid}", Access.CustomerOwnsIt),
        new("GET", "/api/customer/gifts", Access.Users),
        new("POST", "/api/customer/gifts/claim", Access.Users, w => new { token = "not-a-real-token" }),
        new("POST", "/api/customer/gifts/{giftId:guid}/cancel", Access.CustomerOwnsIt),
        new("POST", "/api/customer/vouchers/{voucherId:guid}/gift", Access.Users, w => new { recipientEmail = "" }),
        new("GET", "/api/customer/exchanges", Access.Users),
        new("POST", "/api/customer/exchanges", Access.Users, w => new { offeredVoucherId = w.VoucherId, requestedCampaignId = w.CampaignId }),
        new("POST", "/api/customer/exchanges/{offerId:guid}/accept", Access.Users, w => new { }),
        new("POST", "/api/customer/exchanges/{offerId:guid}/decline", Access.Users),
        new("POST", "/api/customer/exchanges/{offerId:guid}/withdraw", Access.CustomerOwnsIt),

        // Admin API.
        // Merchant API: merchant A's routes. Bodies are chosen so that allowed callers get a 4xx validation error or a
        // harmless change, and the world the other rows rely on (members, API keys) stays as it is.
        new("POST", "/api/merchants/", Access.Users.With(Expect.Forbidden, Caller.Admin), w => new { }),
        new("GET", "/api/merchants/{merchantId:guid}", Access.MerchantMembers),
        new("PUT", "/api/merchants/{merchantId:guid}/profile", Access.MerchantOwners, w => new { }),
        new("POST", "/api/merchants/{merchantId:guid}/kyc/submit", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/members", Access.MerchantOwners, w => new { userId = Guid.Empty, email = "", role = "Staff" }),
        new("DELETE", "/api/merchants/{merchantId:guid}/members/{userId:guid}", Access.MerchantOwners),
        new("PUT", "/api/merchants/{merchantId:guid}/payment-account", Access.MerchantOwners, w => new { provider = "none", accountId = "", secret = "" }),
        new("POST", "/api/merchants/{merchantId:guid}/campaigns", Access.MerchantOwners, w => new { }),
        new("GET", "/api/merchants/{merchantId:guid}/campaigns", Access.MerchantMembers),
        new("GET", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}", Access.MerchantMembers),
        new("PUT", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}", Access.MerchantOwners, w => new { }),
        new("POST", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/publish", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/pause", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/resume", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/end", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/cancel", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/images", Access.MerchantOwners, w => new { }),
        new("DELETE", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/images/{imageId:guid}", Access.MerchantOwners),
        new("GET", "/api/merchants/{merchantId:guid}/campaigns/{campaignId:guid}/ledger-fee", Access.MerchantMembers),
        new("POST", "/api/merchants/{merchantId:guid}/redemptions/preview", Access.MerchantStaff, w => new { code = w.VoucherCode }),
        new("POST", "/api/merchants/{merchantId:guid}/redemptions", Access.MerchantStaff, w => new { code = w.VoucherCode }),
        new("POST", "/api/merchants/{merchantId:guid}/redemptions/{redemptionId:guid}/reverse", Access.MerchantStaff),
        new("GET", "/api/merchants/{merchantId:guid}/redemptions", Access.MerchantStaff),
        new("GET", "/api/merchants/{merchantId:guid}/redemptions.csv", Access.MerchantStaff),
        new("GET", "/api/merchants/{merchantId:guid}/sales", Access.MerchantMembers),
        new("GET", "/api/merchants/{merchantId:guid}/sales.csv", Access.MerchantMembers),
        new("GET", "/api/merchants/{merchantId:guid}/balance", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/api-keys", Access.MerchantOwners, w => new { name = "" }),
        new("GET", "/api/merchants/{merchantId:guid}/api-keys", Access.MerchantOwners),
        new("DELETE", "/api/merchants/{merchantId:guid}/api-keys/{keyId:guid}", Access.MerchantOwners),
        new("POST", "/api/merchants/{merchantId:guid}/vouchers/{voucherId:guid}/refund", Access.MerchantOwners, w => new { reason = "" }),

        // Integration API: API keys only; merchant B's key is told A's voucher does not exist.
        new("GET", "/api/integration/campaigns", Access.AnyApiKey),
        new("GET", "/api/integration/sales", Access.AnyApiKey),
        new("POST", "/api/integration/redemptions/validate", Access.AnyApiKey.With(Expect.NotFound, Caller.OtherApiKey), w => new { code = w.VoucherCode }),
        new("POST", "/api/integration/redemptions", Access.AnyApiKey.With(Expect.NotFound, Caller.OtherApiKey), w => new { code = w.VoucherCode }),
        new("POST", "/api/integration/redemptions/{redemptionId:guid}/reverse", Access.AnyApiKey),

        new("GET", "/api/admin/merchants", Access.Admins),
        new("GET", "/api/admin/merchants/{merchantId:guid}", Access.Admins),
        new("POST", "/api/admin/merchants/{merchantId:guid}/kyc/approve", Access.Admins, w => new { comment = "matrix" }),
        new("POST", "/api/admin/merchants/{merchantId:guid}/kyc/reject", Access.Admins, w => new { comment = "matrix" }),
        new("POST", "/api/admin/merchants/{merchantId:guid}/kyc/request-data", Access.Admins, w => new { comment = "matrix" }),
        new("POST", "/api/admin/merchants/{merchantId:guid}/suspend", Access.Admins, w => new { reason = "matrix" }),
        new("POST", "/api/admin/merchants/{merchantId:guid}/reinstate", Access.Admins),
        new("GET", "/api/admin/campaigns", Access.Admins),
        new("POST", "/api/admin/campaigns/{campaignId:guid}/pause", Access.Admins, w => new { reason = "matrix" }),
        new("POST", "/api/admin/campaigns/{campaignId:guid}/end", Access.Admins),
        new("POST", "/api/admin/campaigns/{campaignId:guid}/cancel", Access.Admins),
        new("GET", "/api/admin/vouchers/by-code/{code}", Access.Admins),
        new("GET", "/api/admin/vouchers/{voucherId:guid}", Access.Admins),
        new("POST", "/api/admin/vouchers/{voucherId:guid}/refund", Access.Admins, w => new { reason = "matrix" }),
        new("GET", "/api/admin/audit", Access.Admins),
        new("GET", "/api/admin/statistics", Access.Admins),
        new("GET", "/api/admin/statistics.csv", Access.Admins),
        new("GET", "/api/admin/outbox/failed", Access.Admins),
        new("POST", "/api/admin/outbox/{messageId:long}/retry", Access.Admins),
        new("POST", "/api/admin/ledger/reconciliations", Access.Admins),
        new("GET", "/api/admin/ledger/reconciliations", Access.Admins),
        new("GET", "/api/admin/ledger/reconciliations/{reportId:guid}", Access.Admins),
        new("POST", "/api/admin/ledger/vouchers/{voucherId:guid}/retry", Access.Admins),

        // Payment webhooks, the sandbox payment page, health and OpenAPI: public by design.
        new("POST", "/webhooks/payments/{provider}", Access.Public, w => new { paymentId = w.PaymentId }),
        new("GET", "/sandbox/checkout/{paymentId}", Access.Public),
        new("POST", "/sandbox/checkout/{paymentId}/confirm", Access.Public),
        new("POST", "/sandbox/checkout/{paymentId}/fail", Access.Public),
        new("*", "/health/live", Access.Public),
        new("*", "/health/ready", Access.Public),
        new("GET", "/openapi/{documentName}.json", Access.Public),
    ];

    [Fact]
    public void Every_endpoint_has_a_row_and_every_row_an_endpoint()
    {
        var endpoints = Discover(fixture.Host).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var rows = Rows.Select(r => r.Key).ToList();

        Assert.Equal(rows.Count, rows.Distinct(StringComparer.Ordinal).Count());
        var missing = endpoints.Except(rows, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var stale = rows.Except(endpoints, StringComparer.Ordinal).ToList();
        Assert.True(
            missing.Count == 0 && stale.Count == 0,
            (missing.Count == 0 ? "" : "Endpoints without a row in AuthorizationMatrixTests.Rows (add one line each):\n"
                + string.Join('\n', missing.Select(k => $"    new(\"{k.Split(' ', 2)[0]}\", \"{k.Split(' ', 2)[1]}\", Access.???),")) + "\n")
            + (stale.Count == 0 ? "" : "Rows without an endpoint (remove them):\n    " + string.Join("\n    ", stale)));
    }

    [Fact]
    public async Task Every_caller_gets_the_expected_outcome_from_every_endpoint()
    {
        var world = fixture.World;
        var failures = new List<string>();
        var cells = 0;
        output.WriteLine($"{"",-70} " + string.Join(' ', Enum.GetValues<Caller>().Select(c => $"{c,13}")));
        foreach (var row in Rows)
        {
            var seen = new List<int>();
            foreach (var caller in Enum.GetValues<Caller>())
            {
                var expected = row.Access.Expected(caller);
                var url = row.Url?.Invoke(world) ?? world.Fill(row.Route);
                using var request = new HttpRequestMessage(new HttpMethod(row.Method == "*" ? "GET" : row.Method), url);
                if (row.Method is not ("GET" or "*"))
                {
                    request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
                    if (row.Body?.Invoke(world) is { } body)
                    {
                        request.Content = JsonContent.Create(body, body.GetType(), options: ApiHost.Json);
                    }
                }

                var response = await world.Clients[caller].SendAsync(request);
                cells++;
                var status = (int)response.StatusCode;
                seen.Add(status);
                var met = expected switch
                {
                    Expect.Allowed => status is not (401 or 403) && status < 500,
                    Expect.Unauthorized => status == 401,
                    Expect.Forbidden => status == 403,
                    Expect.NotFound => status == 404,
                    _ => false,
                };
                if (!met)
                {
                    var text = await response.Content.ReadAsStringAsync();
                    failures.Add($"{caller,-13} {row.Method} {url}: expected {expected}, got {status} {text[..Math.Min(200, text.Length)]}");
                }
            }

            output.WriteLine($"{row.Key,-70} " + string.Join(' ', seen.Select(s => $"{s,13}")));
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {cells} cells differ:\n" + string.Join('\n', failures));
        Assert.Equal(Rows.Count * Enum.GetValues<Caller>().Length, cells);
    }

    [Fact]
    public void Unknown_route_parameters_are_reported_instead_of_guessed()
    {
        var error = Assert.Throws<InvalidOperationException>(() => fixture.World.Fill("/api/things/{thingId:guid}"));
        Assert.Contains("thingId", error.Message, StringComparison.Ordinal);
        Assert.Equal($"/api/admin/merchants/{fixture.World.MerchantId}/suspend", fixture.World.Fill("/api/admin/merchants/{merchantId:guid}/suspend"));
    }

    /// <summary>Every endpoint of the host as "METHOD /route" ("*" when it answers any method).</summary>
    internal static IEnumerable<(string Key, RouteEndpoint Endpoint)> Discover(ApiHost host) =>
        ((IEndpointRouteBuilder)host.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => ($"{m} {e.RoutePattern.RawText}", e)));
}

/// <summary>The kinds of caller, each a column of the matrix.</summary>
public enum Caller
{
    /// <summary>No credentials.</summary>
    Anonymous,

    /// <summary>Customer A (owns the voucher).</summary>
    Customer,

    /// <summary>Customer B.</summary>
    OtherCustomer,

    /// <summary>The owner of merchant A.</summary>
    Owner,

    /// <summary>The owner of merchant B.</summary>
    OtherOwner,

    /// <summary>A staff member of merchant A.</summary>
    Staff,

    /// <summary>An API key of merchant A.</summary>
    ApiKey,

    /// <summary>An API key of merchant B.</summary>
    OtherApiKey,

    /// <summary>A platform operator.</summary>
    Admin,
}

/// <summary>What a cell expects.</summary>
public enum Expect
{
    /// <summary>Not refused: anything but 401 and 403 (and never a 5xx).</summary>
    Allowed,

    /// <summary>Exactly 401.</summary>
    Unauthorized,

    /// <summary>Exactly 403.</summary>
    Forbidden,

    /// <summary>Exactly 404: the caller may not know the resource exists.</summary>
    NotFound,
}

/// <summary>One endpoint of the matrix.</summary>
/// <param name="Method">HTTP method, or "*" for an endpoint that answers any (called with GET).</param>
/// <param name="Route">The route template exactly as the app has it (<c>RoutePattern.RawText</c>).</param>
/// <param name="Access">The expected outcome per caller.</param>
/// <param name="Body">JSON body for non-GET requests (evaluated per cell).</param>
/// <param name="Url">The URL to call when filling the template is not enough (query strings).</param>
public sealed record Row(string Method, string Route, Access Access, Func<MatrixWorld, object?>? Body = null, Func<MatrixWorld, string>? Url = null)
{
    /// <summary>"METHOD /route".</summary>
    public string Key => $"{Method} {Route}";
}

/// <summary>Expected outcomes per caller, built from a preset and adjusted with <see cref="With"/>.</summary>
public sealed class Access
{
    private static readonly Caller[] ApiKeys = [Caller.ApiKey, Caller.OtherApiKey];
    private static readonly Caller[] SignedIn = [Caller.Customer, Caller.OtherCustomer, Caller.Owner, Caller.OtherOwner, Caller.Staff, Caller.Admin];

    private readonly Dictionary<Caller, Expect> _cells;

    private Access(Dictionary<Caller, Expect> cells) => _cells = cells;

    /// <summary>Everyone.</summary>
    public static Access Public => new(Enum.GetValues<Caller>().ToDictionary(c => c, _ => Expect.Allowed));

    /// <summary>Any signed-in user (bearer token); anonymous callers and API keys get 401.</summary>
    public static Access Users => Public.With(Expect.Unauthorized, [Caller.Anonymous, .. ApiKeys]);

    /// <summary>Platform operators only: other users get 403, anonymous callers and API keys 401.</summary>
    public static Access Admins => Users.With(Expect.Forbidden, SignedIn.Except([Caller.Admin]).ToArray());

    /// <summary>A resource of customer A in the customer API: every other user is told it does not exist.</summary>
    public static Access CustomerOwnsIt => Users.With(Expect.NotFound, SignedIn.Except([Caller.Customer]).ToArray());

    /// <summary>Members (owner and staff) of merchant A and operators; other users 403; anonymous callers and API keys 401.</summary>
    public static Access MerchantMembers => Users.With(Expect.Forbidden, Caller.Customer, Caller.OtherCustomer, Caller.OtherOwner);

    /// <summary>Owners of merchant A and operators; staff and other users 403; anonymous callers and API keys 401.</summary>
    public static Access MerchantOwners => MerchantMembers.With(Expect.Forbidden, Caller.Staff);

    /// <summary>Redemption at merchant A: its owner and staff; operators, other users 403; anonymous callers and API keys 401.</summary>
    public static Access MerchantStaff => MerchantMembers.With(Expect.Forbidden, Caller.Admin);

    /// <summary>Any merchant's API key (each sees its own merchant); users (bearer) and anonymous callers 401.</summary>
    public static Access AnyApiKey => Public.With(Expect.Unauthorized, [Caller.Anonymous, .. SignedIn]);

    /// <summary>Merchant A's API key only; merchant B's key 403; users (bearer) and anonymous callers 401.</summary>
    public static Access MerchantApiKey => Public.With(Expect.Unauthorized, [Caller.Anonymous, .. SignedIn]).With(Expect.Forbidden, Caller.OtherApiKey);

    /// <summary>The expectation of one caller.</summary>
    public Expect Expected(Caller caller) => _cells[caller];

    /// <summary>A copy with <paramref name="expect"/> for <paramref name="callers"/>.</summary>
    public Access With(Expect expect, params Caller[] callers)
    {
        var cells = new Dictionary<Caller, Expect>(_cells);
        foreach (var caller in callers)
        {
            cells[caller] = expect;
        }

        return new Access(cells);
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(", ", _cells.Select(c => $"{c.Key}={c.Value}"));
}

/// <summary>One host with the world the matrix runs against.</summary>
public sealed class MatrixFixture : IAsyncLifetime
{
    /// <summary>The host.</summary>
    public ApiHost Host { get; private set; } = null!;

    /// <summary>The world.</summary>
    public MatrixWorld World { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Host = await ApiHost.StartAsync();
        World = await MatrixWorld.BuildAsync(Host);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (World is not null)
        {
            foreach (var client in World.Clients.Values)
            {
                client.Dispose();
            }
        }

        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
    }
}

/// <summary>
/// Two merchants (A and B, each with an owner and an API key; A with a staff member and a published campaign),
/// two customers (A holds a paid voucher of A's campaign), an operator, and a failed outbox message.
/// </summary>
public sealed partial class MatrixWorld
{
    private MatrixWorld()
    {
    }

    /// <summary>A client per caller.</summary>
    public Dictionary<Caller, HttpClient> Clients { get; } = [];

    /// <summary>The user id per signed-in caller.</summary>
    public Dictionary<Caller, Guid> Ids { get; } = [];

    /// <summary>Route parameter name → value for <see cref="Fill"/>. Add a line when a route has a new parameter.</summary>
    public Dictionary<string, string> RouteValues { get; } = new(StringComparer.Ordinal);

    /// <summary>Merchant A.</summary>
    public Guid MerchantId { get; private set; }

    /// <summary>Merchant B.</summary>
    public Guid OtherMerchantId { get; private set; }

    /// <summary>A's published campaign.</summary>
    public Guid CampaignId { get; private set; }

    /// <summary>Customer A's voucher of that campaign.</summary>
    public Guid VoucherId { get; private set; }

    /// <summary>Its code.</summary>
    public string VoucherCode { get; private set; } = "";

    /// <summary>The sandbox payment of its order.</summary>
    public string PaymentId { get; private set; } = "";

    /// <summary>Customer A's email (password <see cref="ApiHost.Password"/>).</summary>
    public string CustomerEmail { get; private set; } = "";

    /// <summary>Customer A's refresh token.</summary>
    public string RefreshToken { get; private set; } = "";

    /// <summary>A valid email confirmation code of customer A (base64url, as the endpoint expects).</summary>
    public string EmailConfirmationCode { get; private set; } = "";

    /// <summary>An outbox message that failed for good.</summary>
    public long FailedOutboxMessageId { get; private set; }

    /// <summary>Builds the world over HTTP and the Core use cases.</summary>
    public static async Task<MatrixWorld> BuildAsync(ApiHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var w = new MatrixWorld();
        w.Clients[Caller.Anonymous] = host.Client();
        (w.Clients[Caller.Admin], w.Ids[Caller.Admin]) = await host.SignInAsync(ApiHost.AdminEmail, ApiHost.AdminPassword);
        foreach (var caller in new[] { Caller.Owner, Caller.OtherOwner, Caller.Staff })
        {
            (w.Clients[caller], w.Ids[caller]) = await host.SignUpAsync($"{caller.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}@example.ch");
        }

        w.MerchantId = await AdminTestKit.ApprovedMerchantAsync(host, w.Ids[Caller.Owner], "Café Sonne");
        w.OtherMerchantId = await AdminTestKit.ApprovedMerchantAsync(host, w.Ids[Caller.OtherOwner], "Bäckerei Mond");
        var owner = Actor.Member(w.Ids[Caller.Owner]);
        await AdminTestKit.RunAsync<MerchantService>(host, s => s.AddMemberAsync(owner, w.MerchantId, w.Ids[Caller.Staff], "staff@sonne.example.ch", MerchantRole.Staff));
        var key = await AdminTestKit.RunAsync<ApiKeyService, CreatedApiKey>(host, s => s.CreateAsync(owner, w.MerchantId, "Till A"));
        var otherKey = await AdminTestKit.RunAsync<ApiKeyService, CreatedApiKey>(host, s => s.CreateAsync(Actor.Member(w.Ids[Caller.OtherOwner]), w.OtherMerchantId, "Till B"));
        w.Clients[Caller.ApiKey] = host.Client();
        w.Clients[Caller.ApiKey].DefaultRequestHeaders.Add("X-Api-Key", key.Secret);
        w.Clients[Caller.OtherApiKey] = host.Client();
        w.Clients[Caller.OtherApiKey].DefaultRequestHeaders.Add("X-Api-Key", otherKey.Secret);
        w.CampaignId = await AdminTestKit.PublishedCampaignAsync(host, w.Ids[Caller.Owner], w.MerchantId);

        w.CustomerEmail = $"customer-{Guid.NewGuid():N}@example.ch";
        (w.Clients[Caller.Customer], w.Ids[Caller.Customer]) = await host.SignUpAsync(w.CustomerEmail);
        Assert.Equal(HttpStatusCode.OK, (await w.Clients[Caller.Customer].PutAsJsonAsync("/api/customer/profile", new { displayName = "Customer A", language = "en" })).StatusCode);
        (w.Clients[Caller.OtherCustomer], w.Ids[Caller.OtherCustomer]) = await host.CustomerAsync();
        var (voucher, paymentId) = await AdminTestKit.BuyAsync(host, w.Clients[Caller.Customer], w.CampaignId);
        (w.VoucherId, w.VoucherCode, w.PaymentId) = (voucher.Id, voucher.Code!, paymentId);

        using (var anonymous = host.Client())
        {
            var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { email = w.CustomerEmail, password = ApiHost.Password });
            w.RefreshToken = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refreshToken").GetString()!;
        }

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<OpenMavnUser>>();
            var user = await users.FindByIdAsync(w.Ids[Caller.Customer].ToString());
            w.EmailConfirmationCode = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(await users.GenerateEmailConfirmationTokenAsync(user!)));

            scope.ServiceProvider.GetRequiredService<OutboxWriter>().Add("matrix.undeliverable", new { }, "matrix:1");
            var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            await db.SaveChangesAsync();
            await host.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();
            w.FailedOutboxMessageId = await db.OutboxMessages.Where(m => m.DedupeKey == "matrix:1" && m.FailedAt != null).Select(m => m.Id).SingleAsync();
        }

        // Customer A's own things: an order, a device, a pending gift of a second voucher, an open offer; an image.
        var (secondVoucher, _) = await AdminTestKit.BuyAsync(host, w.Clients[Caller.Customer], w.CampaignId);
        var orders = await w.Clients[Caller.Customer].GetFromJsonAsync<JsonElement>("/api/customer/orders");
        w.RouteValues["orderId"] = orders[0].GetProperty("id").GetString()!;
        var device = await w.Clients[Caller.Customer].PostAsJsonAsync("/api/customer/devices", new { token = $"matrix-{Guid.NewGuid():N}", platform = "ios" });
        w.RouteValues["deviceId"] = (await device.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var gift = await ApiHost.PostIdempotentAsync(w.Clients[Caller.Customer], $"/api/customer/vouchers/{secondVoucher.Id}/gift", new { recipientEmail = $"nobody-{Guid.NewGuid():N}@example.ch" });
        Assert.Equal(HttpStatusCode.Created, gift.StatusCode);
        w.RouteValues["giftId"] = (await gift.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var offer = await ApiHost.PostIdempotentAsync(w.Clients[Caller.Customer], "/api/customer/exchanges", new { offeredVoucherId = w.VoucherId, requestedCampaignId = w.CampaignId });
        Assert.Equal(HttpStatusCode.Created, offer.StatusCode);
        w.RouteValues["offerId"] = (await offer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
        var image = await AdminTestKit.RunAsync<CampaignService, CampaignImage>(host, s => s.AddImageAsync(owner, w.CampaignId, "image/png", png));
        w.RouteValues["imageId"] = image.Id.ToString();

        // Ids that exist nowhere: allowed callers get 404, the route's own access rules decide the rest.
        w.RouteValues["userId"] = Guid.NewGuid().ToString();
        w.RouteValues["keyId"] = Guid.NewGuid().ToString();
        w.RouteValues["redemptionId"] = Guid.NewGuid().ToString();
        w.RouteValues["reportId"] = Guid.NewGuid().ToString();

        w.RouteValues["merchantId"] = w.MerchantId.ToString();
        w.RouteValues["campaignId"] = w.CampaignId.ToString();
        w.RouteValues["voucherId"] = w.VoucherId.ToString();
        w.RouteValues["code"] = w.VoucherCode;
        w.RouteValues["paymentId"] = w.PaymentId;
        w.RouteValues["provider"] = "sandbox";
        w.RouteValues["documentName"] = "v1";
        w.RouteValues["messageId"] = w.FailedOutboxMessageId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return w;
    }

    /// <summary>Fills a route template's parameters from <see cref="RouteValues"/>; an unknown parameter is an error, not a guess.</summary>
    public string Fill(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return Parameter().Replace(template, m => RouteValues.TryGetValue(m.Groups["name"].Value, out var value)
            ? Uri.EscapeDataString(value)
            : throw new InvalidOperationException($"No value for route parameter '{m.Groups["name"].Value}' of {template}: add one to MatrixWorld.RouteValues, or give the row a Url."));
    }

    [GeneratedRegex(@"\{\*{0,2}(?<name>[A-Za-z_][A-Za-z0-9_]*)[^}]*\}")]
    private static partial Regex Parameter();
}
