using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>The Admin API.</summary>
public static class AdminApi
{
    /// <summary>Maps the group.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
    }
}
