using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Payments;

namespace OpenMavn.AspNetCore.Http;

/// <summary>
/// Seeds a demo so a newcomer can try the flow from the API reference: users with known passwords (an owner, a staff
/// member, a customer, and an operator when none is configured), an approved merchant with a sandbox payment account
/// and a location, and two published campaigns in English, German, French and Italian. Runs only when
/// <c>OpenMavn:Api:SeedDemo</c> is true and the environment is Development; idempotent (each piece is created only
/// when missing), so a second start seeds nothing new. Logs the credentials and the API reference URL once the server
/// listens. Relies on the storage's start-up migration and <see cref="AdminBootstrapper"/> running before it (both are
/// registered earlier).
/// </summary>
internal sealed partial class DemoSeeder(
    IServiceProvider services,
    IOptions<OpenMavnApiOptions> options,
    IHostEnvironment environment,
    IHostApplicationLifetime lifetime,
    ILogger<DemoSeeder> logger) : IHostedService
{
    public const string OwnerEmail = "owner@demo.example";
    public const string OwnerPassword = "owner-demo-password";
    public const string StaffEmail = "staff@demo.example";
    public const string StaffPassword = "staff-demo-password";
    public const string CustomerEmail = "customer@demo.example";
    public const string CustomerPassword = "customer-demo-password";
    public const string OperatorEmail = "operator@demo.example";
    public const string OperatorPassword = "operator-demo-password";
    public const string MerchantName = "Café Sonne (demo)";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SeedDemo)
        {
            return;
        }

        if (!environment.IsDevelopment())
        {
            LogNotDevelopment(logger, environment.EnvironmentName);
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var provider = scope.ServiceProvider;
        if (provider.GetService<SandboxPaymentProvider>() is null)
        {
            LogNoSandbox(logger);
            return;
        }

        var seeding = new Seeding(provider, cancellationToken);
        var operatorId = await seeding.OperatorAsync(options.Value.AdminEmail);
        var owner = await seeding.UserAsync(OwnerEmail, OwnerPassword);
        var staff = await seeding.UserAsync(StaffEmail, StaffPassword);
        var customer = await seeding.UserAsync(CustomerEmail, CustomerPassword);
        await seeding.CustomerProfileAsync(customer);
        var merchantId = await seeding.MerchantAsync(owner, staff, operatorId);
        await seeding.CampaignsAsync(owner, merchantId);

        var createdOperator = options.Value.AdminEmail is null;
        if (seeding.Created > 0)
        {
            LogSeeded(logger, seeding.Created, merchantId);
        }

        lifetime.ApplicationStarted.Register(() =>
        {
            var baseUrl = BaseUrl();
            LogCredentials(
                logger,
                baseUrl + "/scalar/v1",
                baseUrl + "/openapi/v1.json",
                OwnerEmail,
                OwnerPassword,
                StaffEmail,
                StaffPassword,
                CustomerEmail,
                CustomerPassword,
                createdOperator ? $"{OperatorEmail} / {OperatorPassword}" : $"{options.Value.AdminEmail} (configured: OpenMavn:Api:AdminEmail)");
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string BaseUrl()
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses?.FirstOrDefault();
        if (address is null)
        {
            return "http://localhost";
        }

        // A wildcard binding is reachable on localhost.
        return address.TrimEnd('/').Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal);
    }

    private static CampaignDefinition Coffee() => new(
        [
            new CampaignText("en", "Coffee credit CHF 50", "CHF 50 to spend on coffee and pastries at Café Sonne, in as many visits as you like. You pay CHF 45."),
            new CampaignText("de", "Kaffee-Guthaben CHF 50", "CHF 50 für Kaffee und Gebäck im Café Sonne, einlösbar in beliebig vielen Besuchen. Sie bezahlen CHF 45."),
            new CampaignText("fr", "Crédit café CHF 50", "CHF 50 à dépenser en cafés et pâtisseries au Café Sonne, en autant de visites que vous voulez. Vous payez CHF 45."),
            new CampaignText("it", "Credito caffè CHF 50", "CHF 50 da spendere in caffè e pasticcini al Café Sonne, in quante visite volete. Pagate CHF 45."),
        ],
        "de",
        "CHF",
        FaceValue: 5000,
        Price: 4500,
        VoucherKind.StoredValue,
        Supply: 1000,
        PerCustomerLimit: 10,
        SalesStartAt: null,
        SalesEndAt: null,
        ValidityKind.DaysAfterPurchase,
        ValidUntil: null,
        ValidityDays: 365,
        Transferable: true,
        Exchangeable: true);

    private static CampaignDefinition Cake() => new(
        [
            new CampaignText("en", "Cake voucher", "One slice of cake of your choice with a coffee."),
            new CampaignText("de", "Kuchen-Gutschein", "Ein Stück Kuchen nach Wahl mit einem Kaffee."),
            new CampaignText("fr", "Bon gâteau", "Une part de gâteau au choix avec un café."),
            new CampaignText("it", "Buono torta", "Una fetta di torta a scelta con un caffè."),
        ],
        "de",
        "CHF",
        FaceValue: 1200,
        Price: 1200,
        VoucherKind.SingleUse,
        Supply: 500,
        PerCustomerLimit: null,
        SalesStartAt: null,
        SalesEndAt: null,
        ValidityKind.DaysAfterPurchase,
        ValidUntil: null,
        ValidityDays: 180,
        Transferable: true,
        Exchangeable: true);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "OpenMavn:Api:SeedDemo is ignored in the {Environment} environment: the demo is seeded in Development only")]
    private static partial void LogNotDevelopment(ILogger logger, string environment);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "OpenMavn:Api:SeedDemo is ignored: the demo needs the sandbox payment provider (AddSandboxPayments)")]
    private static partial void LogNoSandbox(ILogger logger);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Seeded the OpenMavn demo ({Created} new records; merchant {MerchantId})")]
    private static partial void LogSeeded(ILogger logger, int created, Guid merchantId);

    [LoggerMessage(
        EventId = 3104,
        Level = LogLevel.Information,
        Message = """
            OpenMavn demo (Development; OpenMavn:Api:SeedDemo=true)
                  API reference: {ScalarUrl} (OpenAPI document: {OpenApiUrl})
                  Sign in with POST /api/auth/login, then send "Authorization: Bearer <accessToken>":
                    merchant owner  {OwnerEmail} / {OwnerPassword}
                    merchant staff  {StaffEmail} / {StaffPassword}
                    customer        {CustomerEmail} / {CustomerPassword}
                    operator        {Operator}
            """)]
    private static partial void LogCredentials(
        ILogger logger,
        string scalarUrl,
        string openApiUrl,
        string ownerEmail,
        string ownerPassword,
        string staffEmail,
        string staffPassword,
        string customerEmail,
        string customerPassword,
        string @operator);

    /// <summary>One seeding run: finds or creates each piece and counts what it created.</summary>
    private sealed class Seeding(IServiceProvider provider, CancellationToken cancellationToken)
    {
        private readonly UserManager<OpenMavnUser> _users = provider.GetRequiredService<UserManager<OpenMavnUser>>();

        public int Created { get; private set; }

        public async Task<Guid> OperatorAsync(string? configuredEmail)
        {
            if (configuredEmail is not null && await _users.FindByEmailAsync(configuredEmail) is { } configured)
            {
                return configured.Id;
            }

            var roles = provider.GetRequiredService<RoleManager<IdentityRole<Guid>>>();
            if (!await roles.RoleExistsAsync(OpenMavnRoles.Admin))
            {
                Check(await roles.CreateAsync(new IdentityRole<Guid>(OpenMavnRoles.Admin)), "the Admin role");
            }

            var user = await UserAsync(OperatorEmail, OperatorPassword);
            if (!await _users.IsInRoleAsync(user, OpenMavnRoles.Admin))
            {
                Check(await _users.AddToRoleAsync(user, OpenMavnRoles.Admin), OperatorEmail);
            }

            return user.Id;
        }

        public async Task<OpenMavnUser> UserAsync(string email, string password)
        {
            if (await _users.FindByEmailAsync(email) is { } existing)
            {
                return existing;
            }

            var user = new OpenMavnUser { Id = Guid.CreateVersion7(), UserName = email, Email = email, EmailConfirmed = true };
            Check(await _users.CreateAsync(user, password), email);
            Created++;
            return user;
        }

        public async Task CustomerProfileAsync(OpenMavnUser user)
        {
            var customers = provider.GetRequiredService<CustomerService>();
            try
            {
                await customers.GetAsync(user.Id, cancellationToken);
            }
            catch (NotFoundException)
            {
                await customers.RegisterAsync(user.Id, user.Email!, "Demo Customer", "en", cancellationToken);
                Created++;
            }
        }

        public async Task<Guid> MerchantAsync(OpenMavnUser owner, OpenMavnUser staff, Guid operatorId)
        {
            var merchants = provider.GetRequiredService<MerchantService>();
            var actor = Actor.Member(owner.Id);
            var id = (await merchants.ListMineAsync(actor, cancellationToken)).FirstOrDefault(m => m.Name == MerchantName)?.Id;
            if (id is null)
            {
                var registered = await merchants.RegisterAsync(actor, new RegisterMerchant(MerchantName, "hello@cafe-sonne.example", "CH", "Europe/Zurich", "de"), cancellationToken);
                await merchants.UpdateProfileAsync(
                    actor,
                    registered.Id,
                    new MerchantProfile(MerchantName, "hello@cafe-sonne.example", "Europe/Zurich", "de", "Bahnhofstrasse 1", "Zürich", 47.3769, 8.5417),
                    cancellationToken);
                id = registered.Id;
                Created++;
            }

            var merchant = await merchants.GetAsync(actor, id.Value, cancellationToken);
            if (merchant.KycStatus is KycStatus.Pending or KycStatus.RequiresData)
            {
                await merchants.SubmitForReviewAsync(actor, merchant.Id, cancellationToken);
            }

            if (merchant.KycStatus is not KycStatus.Approved)
            {
                await merchants.ApproveAsync(Actor.Admin(operatorId), merchant.Id, "Demo merchant, approved at seeding.", cancellationToken);
                Created++;
            }

            if (!merchant.Members.Any(m => m.UserId == staff.Id))
            {
                await merchants.AddMemberAsync(actor, merchant.Id, staff.Id, StaffEmail, MerchantRole.Staff, cancellationToken);
                Created++;
            }

            if (merchant.PaymentAccount is null)
            {
                await merchants.ConnectPaymentAccountAsync(actor, merchant.Id, SandboxPaymentProvider.ProviderName, "cafe-sonne-demo", "sandbox-demo-secret", cancellationToken);
                Created++;
            }

            return merchant.Id;
        }

        public async Task CampaignsAsync(OpenMavnUser owner, Guid merchantId)
        {
            var campaigns = provider.GetRequiredService<CampaignService>();
            var actor = Actor.Member(owner.Id);
            var existing = await campaigns.ListForMerchantAsync(actor, merchantId, cancellationToken);
            foreach (var definition in new[] { Coffee(), Cake() })
            {
                var name = definition.Texts.Single(t => t.Language == "en").Name;
                var campaign = existing.FirstOrDefault(c => c.Translations.Any(t => t.Language == "en" && t.Name == name));
                if (campaign is null)
                {
                    campaign = await campaigns.CreateAsync(actor, merchantId, definition, cancellationToken);
                    Created++;
                }

                if (campaign.State == CampaignState.Draft)
                {
                    await campaigns.PublishAsync(actor, campaign.Id, cancellationToken);
                }
            }
        }

        private static void Check(IdentityResult result, string what)
        {
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"The OpenMavn demo could not create {what}: " + string.Join(" ", result.Errors.Select(e => e.Description)));
            }
        }
    }
}
