using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Payments;
using OpenMavn.Payments.Payrexx;

namespace OpenMavn;

/// <summary>Registers the Payrexx payment provider.</summary>
public static class PayrexxServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Payrexx payment provider (<c>payrexx</c>), configured from <c>OpenMavn:Payments:Payrexx</c> and then
    /// <paramref name="configure"/>; options are validated at start-up. Safe to call twice.
    /// </summary>
    /// <param name="builder">The OpenMavn builder.</param>
    /// <param name="configure">Optional changes in code.</param>
    public static IOpenMavnBuilder AddPayrexxPayments(this IOpenMavnBuilder builder, Action<PayrexxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<PayrexxOptions>();
        if (!builder.Services.Any(d => d.ServiceType == typeof(PayrexxMarker)))
        {
            builder.Services.AddSingleton<PayrexxMarker>();
            options.Bind(builder.Configuration.GetSection("Payments:Payrexx")).ValidateOnStart();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddLogging();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PayrexxOptions>, PayrexxOptionsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<PayrexxOptions>, PayrexxOptionsValidator>());
        builder.Services.TryAddSingleton<PayrexxPaymentProvider>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPaymentProvider, PayrexxPaymentProvider>(sp => sp.GetRequiredService<PayrexxPaymentProvider>()));
        return builder;
    }

    private sealed class PayrexxMarker;
}
