using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.Email;
using OpenMavn.Notifications.Push;
using OpenMavn.Notifications.Templates;

namespace OpenMavn;

/// <summary>Registers the email and push notification senders and their templates.</summary>
public static class NotificationsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <c>email</c> channel over SendGrid, configured from <c>OpenMavn:Notifications:SendGrid</c> and then
    /// <paramref name="configure"/>; options are validated at start-up. Safe to call twice.
    /// </summary>
    /// <param name="builder">The OpenMavn builder.</param>
    /// <param name="configure">Optional changes in code.</param>
    public static IOpenMavnBuilder AddSendGridEmail(this IOpenMavnBuilder builder, Action<SendGridEmailOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<SendGridEmailOptions>();
        if (!builder.Services.Any(d => d.ServiceType == typeof(SendGridMarker)))
        {
            builder.Services.AddSingleton<SendGridMarker>();
            options.Bind(builder.Configuration.GetSection("Notifications:SendGrid")).ValidateOnStart();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        AddTemplates(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SendGridEmailOptions>, SendGridEmailOptionsValidator>());
        builder.Services.AddHttpClient(SendGridEmailSender.HttpClientName)
            .ConfigureHttpClient((sp, client) => client.Timeout = sp.GetRequiredService<IOptions<SendGridEmailOptions>>().Value.RequestTimeout);
        builder.Services.TryAddSingleton<SendGridEmailSender>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationSender, SendGridEmailSender>(sp => sp.GetRequiredService<SendGridEmailSender>()));
        return builder;
    }

    /// <summary>
    /// Adds the <c>push</c> channel over Firebase Cloud Messaging HTTP v1, configured from
    /// <c>OpenMavn:Notifications:Firebase</c> and then <paramref name="configure"/>; options are validated at start-up.
    /// Pushes go to the device tokens customers register through the customer API. Safe to call twice.
    /// </summary>
    /// <param name="builder">The OpenMavn builder.</param>
    /// <param name="configure">Optional changes in code.</param>
    public static IOpenMavnBuilder AddFirebasePush(this IOpenMavnBuilder builder, Action<FirebasePushOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<FirebasePushOptions>();
        if (!builder.Services.Any(d => d.ServiceType == typeof(FirebaseMarker)))
        {
            builder.Services.AddSingleton<FirebaseMarker>();
            options.Bind(builder.Configuration.GetSection("Notifications:Firebase")).ValidateOnStart();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        AddTemplates(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FirebasePushOptions>, FirebasePushOptionsValidator>());
        builder.Services.AddHttpClient(FirebasePushSender.HttpClientName)
            .ConfigureHttpClient((sp, client) => client.Timeout = sp.GetRequiredService<IOptions<FirebasePushOptions>>().Value.RequestTimeout);
        builder.Services.TryAddSingleton<FirebaseAccessToken>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Scoped<INotificationSender, FirebasePushSender>());
        return builder;
    }

    /// <summary>
    /// Changes where message templates come from (a folder, the host's embedded resources) and the platform name;
    /// also bound from <c>OpenMavn:Notifications:Templates</c>.
    /// </summary>
    /// <param name="builder">The OpenMavn builder.</param>
    /// <param name="configure">Changes in code.</param>
    public static IOpenMavnBuilder AddNotificationTemplates(this IOpenMavnBuilder builder, Action<NotificationTemplateOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddTemplates(builder);
        builder.Services.Configure(configure);
        return builder;
    }

    private static void AddTemplates(IOpenMavnBuilder builder)
    {
        if (builder.Services.Any(d => d.ServiceType == typeof(TemplatesMarker)))
        {
            return;
        }

        builder.Services.AddSingleton<TemplatesMarker>();
        builder.Services.AddOptions<NotificationTemplateOptions>().Bind(builder.Configuration.GetSection("Notifications:Templates"));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddLogging();
        builder.Services.TryAddSingleton<NotificationRenderer>();
    }

    private sealed class SendGridMarker;

    private sealed class FirebaseMarker;

    private sealed class TemplatesMarker;
}
