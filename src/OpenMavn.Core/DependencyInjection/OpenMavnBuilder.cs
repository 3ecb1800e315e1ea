using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace OpenMavn;

/// <summary>Returned by <c>AddOpenMavn</c>; provider packages add one extension method each on it.</summary>
public interface IOpenMavnBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>The <c>OpenMavn</c> configuration section (empty when configured in code).</summary>
    IConfiguration Configuration { get; }
}

internal sealed class OpenMavnBuilder(IServiceCollection services, IConfiguration configuration) : IOpenMavnBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration Configuration { get; } = configuration;
}
