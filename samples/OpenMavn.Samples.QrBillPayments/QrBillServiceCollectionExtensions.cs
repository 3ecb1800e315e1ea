using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;
using OpenMavn.Samples.QrBillPayments;
using OpenMavn.Samples.QrBillPayments.Storage;

namespace OpenMavn;

/// <summary>Registers the QR-bill payment provider.</summary>
public static class QrBillServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Swiss QR-bill payment provider (<c>qrbill</c>) and its merchant service (<see cref="QrBillService"/>),
    /// configured from <c>OpenMavn:Payments:QrBill</c> and then <paramref name="configure"/>; options are validated and
    /// the provider's tables created at start-up. Safe to call twice.
    /// </summary>
    /// <param name="builder">The OpenMavn builder.</param>
    /// <param name="configure">Optional changes in code.</param>
    public static IOpenMavnBuilder AddQrBillPayments(this IOpenMavnBuilder builder, Action<QrBillOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<QrBillOptions>();
        if (!builder.Services.Any(d => d.ServiceType == typeof(QrBillMarker)))
        {
            builder.Services.AddSingleton<QrBillMarker>();
            options.Bind(builder.Configuration.GetSection("Payments:QrBill")).ValidateOnStart();
            builder.Services.AddHostedService<QrBillSchemaStartup>();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddLogging();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QrBillOptions>, QrBillOptionsValidator>());
        builder.Services.TryAddSingleton(sp => new QrBillDatabase(sp.GetRequiredService<IOptions<QrBillOptions>>()));
        builder.Services.TryAddSingleton(sp => new QrBillPaymentProvider(
            sp.GetRequiredService<QrBillDatabase>(), sp.GetRequiredService<IOptionsMonitor<QrBillOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<QrBillPaymentProvider>>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPaymentProvider, QrBillPaymentProvider>(sp => sp.GetRequiredService<QrBillPaymentProvider>()));
        builder.Services.TryAddScoped(sp => new QrBillService(
            sp.GetRequiredService<QrBillDatabase>(), sp.GetRequiredService<MerchantService>(), sp.GetRequiredService<PurchaseService>(),
            sp.GetRequiredService<IOptionsMonitor<QrBillOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<QrBillService>>()));
        return builder;
    }

    private sealed class QrBillMarker;
}
