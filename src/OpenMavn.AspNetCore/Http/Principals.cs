using System.Security.Claims;
using OpenMavn.Core;
using OpenMavn.Core.Identity;

namespace OpenMavn.AspNetCore.Http;

/// <summary>Turns the authenticated principal into the <see cref="Actor"/> the use cases expect.</summary>
public static class Principals
{
    /// <summary>The authentication scheme of merchant API keys.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>The claim carrying an API key's merchant.</summary>
    public const string MerchantClaim = "openmavn:merchant";

    /// <summary>The signed-in user's id.</summary>
    public static Guid UserId(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var value = user.FindFirstValue(ClaimTypes.NameIdentifier);
        return Guid.TryParse(value, out var id) ? id : throw new ForbiddenException("auth.required", "Sign in first.");
    }

    /// <summary>The user as a customer.</summary>
    public static Actor AsCustomer(this ClaimsPrincipal user) => Actor.Customer(user.UserId());

    /// <summary>The user as a merchant member, or as an operator when they hold the Admin role.</summary>
    public static Actor AsMember(this ClaimsPrincipal user) =>
        user.IsInRole(OpenMavnRoles.Admin) ? Actor.Admin(user.UserId()) : Actor.Member(user.UserId());

    /// <summary>The user as a platform operator.</summary>
    public static Actor AsAdmin(this ClaimsPrincipal user) => Actor.Admin(user.UserId());

    /// <summary>The API key principal.</summary>
    public static Actor AsApiKey(this ClaimsPrincipal user) => Actor.Key(user.UserId());

    /// <summary>The merchant an API key belongs to.</summary>
    public static Guid ApiKeyMerchant(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return Guid.TryParse(user.FindFirstValue(MerchantClaim), out var id) ? id : throw new ForbiddenException("auth.required", "An API key is required.");
    }
}
