using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Persistence;

namespace OpenMavn.AspNetCore.Http;

/// <summary>
/// Makes a POST idempotent by its <c>Idempotency-Key</c> header: the first response is stored; a replay of the same
/// request gets it back (header <c>Idempotent-Replayed: true</c>); the same key with another request is refused with
/// 422; a replay while the first is still running gets 409. A request that failed is not stored, so it can be retried.
/// </summary>
internal sealed class IdempotencyFilter : IEndpointFilter
{
    public const string HeaderName = "Idempotency-Key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = http.Request.Headers[HeaderName].ToString();
        if (string.IsNullOrWhiteSpace(key) || key.Length > 128 || key.Any(char.IsControl))
        {
            throw new ValidationFailedException(HeaderName, "An Idempotency-Key header of 1 to 128 printable characters is required.");
        }

        var services = http.RequestServices;
        var json = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var time = services.GetRequiredService<TimeProvider>();
        var caller = http.User.Identity?.IsAuthenticated == true ? http.User.UserId().ToString("N") : "anonymous";
        var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "";
        var scope = $"{caller}:{http.Request.Method}:{route}";
        if (scope.Length > 200)
        {
            scope = scope[..200];
        }

        var fingerprint = Fingerprint(context, json);

        await using (var lookup = services.CreateAsyncScope())
        {
            var db = lookup.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            var existing = await db.IdempotentRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Scope == scope && r.Key == key, http.RequestAborted);
            if (existing is null)
            {
                db.IdempotentRequests.Add(new IdempotentRequest { Scope = scope, Key = key, RequestHash = fingerprint, CreatedAt = time.GetUtcNow() });
                try
                {
                    await db.SaveChangesAsync(http.RequestAborted);
                }
                catch (DbUpdateException)
                {
                    db.ChangeTracker.Clear();
                    existing = await db.IdempotentRequests.AsNoTracking().FirstAsync(r => r.Scope == scope && r.Key == key, http.RequestAborted);
                }
            }

            if (existing is not null)
            {
                if (existing.RequestHash != fingerprint)
                {
                    throw new IdempotencyConflictException("This Idempotency-Key was already used for a different request.");
                }

                if (existing.StatusCode is not { } status)
                {
                    throw new ConflictException("idempotency.in_progress", "A request with this Idempotency-Key is still being processed; retry shortly.");
                }

                http.Response.Headers["Idempotent-Replayed"] = "true";
                return Results.Text(existing.ResponseBody ?? "", "application/json", Encoding.UTF8, status);
            }
        }

        object? result;
        try
        {
            result = await next(context);
        }
        catch
        {
            await ForgetAsync(services, scope, key);
            throw;
        }

        var statusCode = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK;
        var body = result is IValueHttpResult { Value: { } value } ? JsonSerializer.Serialize(value, value.GetType(), json) : null;
        await using (var store = services.CreateAsyncScope())
        {
            var db = store.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            await db.IdempotentRequests.Where(r => r.Scope == scope && r.Key == key)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.StatusCode, statusCode).SetProperty(r => r.ResponseBody, body).SetProperty(r => r.CompletedAt, time.GetUtcNow()), CancellationToken.None);
        }

        return result;
    }

    private static async Task ForgetAsync(IServiceProvider services, string scope, string key)
    {
        await using var forget = services.CreateAsyncScope();
        var db = forget.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        await db.IdempotentRequests.Where(r => r.Scope == scope && r.Key == key && r.StatusCode == null).ExecuteDeleteAsync(CancellationToken.None);
    }

    /// <summary>SHA-256 of the bound arguments (route values, query and body), ignoring services and the principal.</summary>
    private static string Fingerprint(EndpointFilterInvocationContext context, JsonSerializerOptions json)
    {
        var isService = context.HttpContext.RequestServices.GetService<IServiceProviderIsService>();
        var parts = context.Arguments
            .Where(a => a is not null and not HttpContext and not System.Security.Claims.ClaimsPrincipal and not CancellationToken
                && isService?.IsService(a.GetType()) != true)
            .Select(a => JsonSerializer.Serialize(a, a!.GetType(), json));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))));
    }
}

/// <summary>Endpoint conventions.</summary>
public static class IdempotencyEndpointExtensions
{
    /// <summary>Requires an <c>Idempotency-Key</c> header and replays the first response for the same key.</summary>
    public static RouteHandlerBuilder RequireIdempotencyKey(this RouteHandlerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddEndpointFilter<IdempotencyFilter>()
            .WithMetadata(new IdempotentEndpointMetadata())
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
    }
}

/// <summary>Marks an endpoint that takes an <c>Idempotency-Key</c> header (for OpenAPI).</summary>
public sealed class IdempotentEndpointMetadata;
