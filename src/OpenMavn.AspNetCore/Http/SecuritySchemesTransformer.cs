using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace OpenMavn.AspNetCore.Http;

/// <summary>Describes the bearer-token and API-key schemes in the OpenAPI document, so generated clients can sign in.</summary>
internal sealed class SecuritySchemesTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "OpenMavn";
        document.Info.Description = "Prepaid smart vouchers: customer, merchant, admin and integration APIs. Errors are RFC 7807 problem details with a stable `code`.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The accessToken from POST /api/auth/login.",
        };
        document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "X-Api-Key",
            Description = "A merchant API key (integration API).",
        };
        return Task.CompletedTask;
    }
}
