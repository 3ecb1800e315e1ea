using Microsoft.AspNetCore.Identity;

namespace OpenMavn.Core.Identity;

/// <summary>
/// A person who signs in (customer, merchant member, operator). Credentials live with ASP.NET Core Identity in the
/// OpenMavn database; the user id is the customer id and the merchant member id.
/// </summary>
public sealed class OpenMavnUser : IdentityUser<Guid>
{
}

/// <summary>Role names.</summary>
public static class OpenMavnRoles
{
    /// <summary>Platform operators.</summary>
    public const string Admin = "Admin";
}
