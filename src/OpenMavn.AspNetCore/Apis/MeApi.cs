using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core;
using OpenMavn.Core.Identity;
using OpenMavn.Core.Merchants;

namespace OpenMavn.AspNetCore.Apis;

/// <summary><c>GET /api/me</c>: who the signed-in user is, their roles and the merchants they belong to.</summary>
public static class MeApi
{
    /// <summary>Maps the endpoint.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/api/me", GetAsync).WithName("GetMe").WithSummary("The signed-in user: id, email, roles and merchants.").WithTags("Auth").RequireAuthorization(Policies.User);
    }

    /// <summary>A merchant the user belongs to.</summary>
    public sealed record MembershipView(Guid MerchantId, string Name, MerchantRole Role);

    /// <summary>The signed-in user.</summary>
    public sealed record MeView(Guid Id, string? Email, bool IsAdmin, IReadOnlyList<MembershipView> Merchants);

    private static async Task<Ok<MeView>> GetAsync(HttpContext http, MerchantService merchants, CancellationToken cancellationToken)
    {
        var id = http.User.UserId();
        var mine = await merchants.ListMineAsync(Actor.Member(id), cancellationToken);
        return TypedResults.Ok(new MeView(
            id,
            http.User.FindFirst(System.Security.Claims.ClaimTypes.Email)?.Value ?? http.User.Identity?.Name,
            http.User.IsInRole(OpenMavnRoles.Admin),
            mine.Select(m => new MembershipView(m.Id, m.Name, m.Members.First(x => x.UserId == id).Role)).ToList()));
    }
}
