using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>The Integration API.</summary>
public static class IntegrationApi
{
    /// <summary>Maps the group.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
    }
}
