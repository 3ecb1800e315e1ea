using System.Globalization;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenMavn.AspNetCore;
using OpenMavn.AspNetCore.Apis;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Persistence;

namespace OpenMavn;

/// <summary>Adds and maps OpenMavn's HTTP APIs.</summary>
public static class OpenMavnApiExtensions
{
    /// <summary>The rate-limit policy of sign-in and sign-up.</summary>
    public const string SignInPolicy = "openmavn-signin";

    /// <summary>The rate-limit policy of code lookups and redemptions (per user or API key).</summary>
    public const string CodesPolicy = "openmavn-codes";

    /// <summary>
    /// Adds the HTTP APIs: Identity with bearer tokens (users in the OpenMavn database), merchant API keys,
    /// ProblemDetails for every error, rate limits, OpenAPI, health checks and request logging. Safe to call twice.
    /// </summary>
    public static IOpenMavnBuilder AddOpenMavnApis(this IOpenMavnBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(ApisMarker)))
        {
            return builder;
        }

        services.AddSingleton<ApisMarker>();
        services.AddOptions<OpenMavnApiOptions>().Bind(builder.Configuration.GetSection("Api")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OpenMavnApiOptions>, ApiOptionsValidator>();

        services.AddIdentityApiEndpoints<OpenMavnUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                // Length over composition rules (NIST SP 800-63B): at least 10 characters, no forced character classes.
                o.Password.RequiredLength = 10;
                o.Password.RequiredUniqueChars = 4;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireDigit = false;
                o.Lockout.MaxFailedAccessAttempts = 10;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddRoles<IdentityRole<Guid>>()
            .AddEntityFrameworkStores<OpenMavnDbContext>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Principals.ApiKeyScheme, null);

        // An API answers 401/403; it never redirects to a login page (Identity's cookie scheme would).
        services.ConfigureApplicationCookie(o =>
        {
            o.Events.OnRedirectToLogin = context =>
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            };
            o.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.User, p => p.AddAuthenticationSchemes(IdentityConstants.BearerScheme, IdentityConstants.ApplicationScheme).RequireAuthenticatedUser())
            .AddPolicy(Policies.Admin, p => p.AddAuthenticationSchemes(IdentityConstants.BearerScheme, IdentityConstants.ApplicationScheme).RequireRole(OpenMavnRoles.Admin))
            .AddPolicy(Policies.ApiKey, p => p.AddAuthenticationSchemes(Principals.ApiKeyScheme).RequireAuthenticatedUser());

        services.AddProblemDetails();
        services.AddExceptionHandler<OpenMavnExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, cancellationToken) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                }

                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new ProblemDetails { Status = 429, Title = "Too many requests.", Detail = "Slow down and try again later.", Extensions = { ["code"] = "rate_limited" } },
                });
            };
            o.AddPolicy(SignInPolicy, context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<OpenMavnApiOptions>>().Value.SignInPermitsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter("signin:" + ClientIp(context), _ => Window(limit));
            });
            o.AddPolicy(CodesPolicy, context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<OpenMavnApiOptions>>().Value.CodeLookupsPerMinutePerUser;
                var who = context.User.Identity?.IsAuthenticated == true ? context.User.UserId().ToString("N") : "ip:" + ClientIp(context);
                return RateLimitPartition.GetFixedWindowLimiter("codes:" + who, _ => Window(limit));
            });

            // Per IP as well, for the same endpoints: many accounts behind one address cannot guess in parallel.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (context.GetEndpoint()?.Metadata.GetMetadata<CodeLookupMetadata>() is null)
                {
                    return RateLimitPartition.GetNoLimiter("none");
                }

                var limit = context.RequestServices.GetRequiredService<IOptions<OpenMavnApiOptions>>().Value.CodeLookupsPerMinutePerIp;
                return RateLimitPartition.GetFixedWindowLimiter("codes-ip:" + ClientIp(context), _ => Window(limit));
            });
        });

        services.AddOpenApi(o => o.AddDocumentTransformer<SecuritySchemesTransformer>());
        services.AddHealthChecks().AddDbContextCheck<OpenMavnDbContext>("database", tags: ["ready"]);
        services.AddHttpLogging(o =>
        {
            o.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            o.CombineLogs = true;
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AdminBootstrapper>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DemoSeeder>());
        return builder;
    }

    /// <summary>
    /// Maps everything: <c>/api/auth</c>, <c>/api/customer</c>, <c>/api/merchants</c>, <c>/api/admin</c>,
    /// <c>/api/integration</c>, <c>/webhooks/payments/{provider}</c>, <c>/health/live</c>, <c>/health/ready</c> and
    /// <c>/openapi/v1.json</c>. Call on the <see cref="WebApplication"/> (it also adds the exception handler, rate
    /// limiter, body-size limit and request logging to the pipeline).
    /// </summary>
    public static WebApplication MapOpenMavnApis(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHttpLogging();
        app.Use(async (context, next) =>
        {
            // One body-size limit for the JSON APIs; image uploads raise it on their endpoint.
            var feature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
            if (feature is { IsReadOnly: false } && context.GetEndpoint()?.Metadata.GetMetadata<LargeBodyMetadata>() is null)
            {
                feature.MaxRequestBodySize = context.RequestServices.GetRequiredService<IOptions<OpenMavnApiOptions>>().Value.MaxRequestBodyBytes;
            }

            await next(context);
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapGroup("/api/auth").WithTags("Auth").RequireRateLimiting(SignInPolicy).MapIdentityApi<OpenMavnUser>();
        MeApi.Map(app);
        CustomerApi.Map(app);
        MerchantApi.Map(app);
        AdminApi.Map(app);
        IntegrationApi.Map(app);
        WebhookApi.Map(app);
        SandboxCheckoutApi.Map(app);

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithTags("Health");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).WithTags("Health");
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }

    internal static string ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static FixedWindowRateLimiterOptions Window(int limit) =>
        new() { PermitLimit = Math.Max(1, limit), Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true };

    private sealed class ApisMarker;
}

/// <summary>Authorization policy names.</summary>
public static class Policies
{
    /// <summary>Any signed-in user (customers, merchant members, operators).</summary>
    public const string User = "openmavn-user";

    /// <summary>Platform operators.</summary>
    public const string Admin = "openmavn-admin";

    /// <summary>A merchant API key.</summary>
    public const string ApiKey = "openmavn-apikey";
}

/// <summary>Marks endpoints that look up voucher codes: limited per IP as well as per user.</summary>
public sealed class CodeLookupMetadata;

/// <summary>Endpoint conventions of the APIs.</summary>
public static class CodeLookupEndpointExtensions
{
    /// <summary>
    /// Limits an endpoint that looks up voucher codes both per user (or API key) and per IP, so guessing is throttled
    /// however many accounts or addresses are used.
    /// </summary>
    public static RouteHandlerBuilder LimitCodeLookups(this RouteHandlerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.RequireRateLimiting(OpenMavnApiExtensions.CodesPolicy).WithMetadata(new CodeLookupMetadata());
    }
}

/// <summary>Marks endpoints that accept bodies above the default limit (image uploads).</summary>
public sealed class LargeBodyMetadata;

internal sealed class ApiOptionsValidator : IValidateOptions<OpenMavnApiOptions>
{
    public ValidateOptionsResult Validate(string? name, OpenMavnApiOptions options)
    {
        var failures = new List<string>();
        if (options.SignInPermitsPerMinute < 1 || options.CodeLookupsPerMinutePerUser < 1 || options.CodeLookupsPerMinutePerIp < 1)
        {
            failures.Add("OpenMavn:Api rate limits must be at least 1 per minute.");
        }

        if (options.MaxRequestBodyBytes is < 1024 or > 100 * 1024 * 1024)
        {
            failures.Add("OpenMavn:Api:MaxRequestBodyBytes must be between 1 KiB and 100 MiB.");
        }

        if (!options.InvitationUrl.Contains("{code}", StringComparison.Ordinal) || !options.InvitationUrl.Contains("{email}", StringComparison.Ordinal))
        {
            failures.Add("OpenMavn:Api:InvitationUrl must contain {email} and {code}.");
        }

        if ((options.AdminEmail is null) != (options.AdminPassword is null))
        {
            failures.Add("OpenMavn:Api:AdminEmail and AdminPassword go together.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
