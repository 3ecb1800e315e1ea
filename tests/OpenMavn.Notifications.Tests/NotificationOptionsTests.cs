using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.Email;
using OpenMavn.Notifications.Push;
using OpenMavn.Notifications.Templates;

namespace OpenMavn.Notifications.Tests;

/// <summary>The SendGrid, Firebase and template settings: bound from <c>OpenMavn:Notifications:…</c> and validated at start-up.</summary>
public sealed class NotificationOptionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("openmavn-options-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string ServiceAccountFile()
    {
        var path = Path.Combine(_folder, "service-account.json");
        File.WriteAllText(path, "{}");
        return path;
    }

    private static Dictionary<string, string?> ValidSendGrid() => new()
    {
        ["OpenMavn:Notifications:SendGrid:ApiKey"] = "SG.options-test",
        ["OpenMavn:Notifications:SendGrid:FromEmail"] = "gutscheine@example.ch",
    };

    private static Dictionary<string, string?> ValidFirebase() => new()
    {
        ["OpenMavn:Notifications:Firebase:ProjectId"] = "openmavn-test",
        ["OpenMavn:Notifications:Firebase:ServiceAccountJson"] = "{\"type\":\"service_account\"}",
    };

    private static ServiceProvider Services(Dictionary<string, string?> settings, Action<IOpenMavnBuilder> channels)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        channels(services.AddOpenMavn(configuration.GetSection("OpenMavn")));
        return services.BuildServiceProvider();
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings, string key, string? value)
    {
        settings[key] = value;
        return settings;
    }

    [Fact]
    public void SendGrid_settings_bind_from_OpenMavn_Notifications_SendGrid()
    {
        using var services = Services(
            new()
            {
                ["OpenMavn:Notifications:SendGrid:ApiKey"] = "SG.bound",
                ["OpenMavn:Notifications:SendGrid:FromEmail"] = "gutscheine@example.ch",
                ["OpenMavn:Notifications:SendGrid:FromName"] = "Gutscheine Bern",
                ["OpenMavn:Notifications:SendGrid:ReplyTo"] = "hilfe@example.ch",
                ["OpenMavn:Notifications:SendGrid:Host"] = "http://127.0.0.1:5099",
                ["OpenMavn:Notifications:SendGrid:RequestTimeout"] = "00:00:07",
            },
            b => b.AddSendGridEmail());

        var options = services.GetRequiredService<IOptions<SendGridEmailOptions>>().Value;

        Assert.Equal(
            ("SG.bound", "gutscheine@example.ch", "Gutscheine Bern", "hilfe@example.ch", "http://127.0.0.1:5099", TimeSpan.FromSeconds(7)),
            (options.ApiKey, options.FromEmail, options.FromName, options.ReplyTo, options.Host, options.RequestTimeout));
        Assert.Equal("email", Assert.Single(services.GetServices<INotificationSender>(), s => s is SendGridEmailSender).Channel);
    }

    [Fact]
    public void SendGrid_defaults_and_changes_in_code()
    {
        using var services = Services(ValidSendGrid(), b => b.AddSendGridEmail(o => o.FromName = "In Code"));

        var options = services.GetRequiredService<IOptions<SendGridEmailOptions>>().Value;

        Assert.Equal("In Code", options.FromName);
        Assert.Null(options.Host);
        Assert.Null(options.ReplyTo);
        Assert.Equal(TimeSpan.FromSeconds(20), options.RequestTimeout);
    }

    [Theory]
    [InlineData("ApiKey", null)]
    [InlineData("ApiKey", "  ")]
    [InlineData("FromEmail", "")]
    [InlineData("FromEmail", "gutscheine")]
    [InlineData("FromEmail", "@example.ch")]
    [InlineData("FromEmail", "gutscheine@")]
    [InlineData("FromEmail", "guts cheine@example.ch")]
    [InlineData("ReplyTo", "hilfe")]
    [InlineData("Host", "api.sendgrid.com")]
    [InlineData("Host", "/v3")]
    [InlineData("Host", "ftp://127.0.0.1")]
    [InlineData("Host", "https://api.sendgrid.com/?x=1")]
    [InlineData("RequestTimeout", "00:00:00")]
    [InlineData("RequestTimeout", "-00:00:01")]
    [InlineData("RequestTimeout", "00:05:01")]
    public void Invalid_SendGrid_settings_are_refused_naming_the_key(string key, string? value)
    {
        using var services = Services(With(ValidSendGrid(), $"OpenMavn:Notifications:SendGrid:{key}", value), b => b.AddSendGridEmail());

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<SendGridEmailOptions>>().Value);

        Assert.Contains($"OpenMavn:Notifications:SendGrid:{key}", error.Message, StringComparison.Ordinal);
        Assert.Single(error.Failures);
        // The start-up check (ValidateOnStart) refuses it too.
        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
    }

    [Fact]
    public void A_valid_SendGrid_configuration_passes_the_start_up_check()
    {
        using var services = Services(With(ValidSendGrid(), "OpenMavn:Notifications:SendGrid:RequestTimeout", "00:05:00"), b => b.AddSendGridEmail());

        services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(TimeSpan.FromMinutes(5), services.GetRequiredService<IOptions<SendGridEmailOptions>>().Value.RequestTimeout);
    }

    [Fact]
    public void The_API_key_is_not_in_a_validation_message()
    {
        using var services = Services(With(ValidSendGrid(), "OpenMavn:Notifications:SendGrid:FromEmail", "nope"), b => b.AddSendGridEmail());

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<SendGridEmailOptions>>().Value);

        Assert.DoesNotContain("SG.options-test", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Firebase_settings_bind_from_OpenMavn_Notifications_Firebase()
    {
        var file = ServiceAccountFile();
        using var services = Services(
            new()
            {
                ["OpenMavn:Notifications:Firebase:ProjectId"] = "gutscheine-bern",
                ["OpenMavn:Notifications:Firebase:ServiceAccountFile"] = file,
                ["OpenMavn:Notifications:Firebase:Endpoint"] = "http://127.0.0.1:5098",
                ["OpenMavn:Notifications:Firebase:RequestTimeout"] = "00:00:09",
            },
            b => b.AddFirebasePush());

        var options = services.GetRequiredService<IOptions<FirebasePushOptions>>().Value;

        Assert.Equal(
            ("gutscheine-bern", file, (string?)null, "http://127.0.0.1:5098", TimeSpan.FromSeconds(9)),
            (options.ProjectId, options.ServiceAccountFile, options.ServiceAccountJson, options.Endpoint, options.RequestTimeout));
    }

    [Fact]
    public void Firebase_defaults_and_inline_key()
    {
        using var services = Services(ValidFirebase(), b => b.AddFirebasePush());

        var options = services.GetRequiredService<IOptions<FirebasePushOptions>>().Value;

        Assert.Equal("{\"type\":\"service_account\"}", options.ServiceAccountJson);
        Assert.Equal("https://fcm.googleapis.com", options.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(20), options.RequestTimeout);
        services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Theory]
    [InlineData("ProjectId", "")]
    [InlineData("ProjectId", "my project")]
    [InlineData("ProjectId", "a/../b")]
    [InlineData("Endpoint", "fcm.googleapis.com")]
    [InlineData("Endpoint", "/v1")]
    [InlineData("Endpoint", "file:///tmp/fcm")]
    [InlineData("Endpoint", "")]
    [InlineData("RequestTimeout", "00:00:00")]
    [InlineData("RequestTimeout", "01:00:00")]
    public void Invalid_Firebase_settings_are_refused_naming_the_key(string key, string value)
    {
        using var services = Services(With(ValidFirebase(), $"OpenMavn:Notifications:Firebase:{key}", value), b => b.AddFirebasePush());

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<FirebasePushOptions>>().Value);

        Assert.Contains($"OpenMavn:Notifications:Firebase:{key}", error.Message, StringComparison.Ordinal);
        Assert.Single(error.Failures);
        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
    }

    [Fact]
    public void Firebase_needs_exactly_one_of_the_key_file_and_the_inline_key()
    {
        var neither = ValidFirebase();
        neither.Remove("OpenMavn:Notifications:Firebase:ServiceAccountJson");
        var both = With(ValidFirebase(), "OpenMavn:Notifications:Firebase:ServiceAccountFile", ServiceAccountFile());

        foreach (var settings in new[] { neither, both })
        {
            using var services = Services(settings, b => b.AddFirebasePush());
            var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<FirebasePushOptions>>().Value);
            Assert.Contains("OpenMavn:Notifications:Firebase:ServiceAccountFile", error.Message, StringComparison.Ordinal);
            Assert.Contains("ServiceAccountJson", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_missing_key_file_is_refused_naming_the_key_and_the_path()
    {
        var missing = Path.Combine(_folder, "missing.json");
        var settings = ValidFirebase();
        settings.Remove("OpenMavn:Notifications:Firebase:ServiceAccountJson");
        settings["OpenMavn:Notifications:Firebase:ServiceAccountFile"] = missing;
        using var services = Services(settings, b => b.AddFirebasePush());

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<FirebasePushOptions>>().Value);

        Assert.Contains("OpenMavn:Notifications:Firebase:ServiceAccountFile", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Template_settings_bind_from_OpenMavn_Notifications_Templates()
    {
        var settings = ValidSendGrid();
        settings["OpenMavn:Notifications:Templates:Directory"] = _folder;
        settings["OpenMavn:Notifications:Templates:PlatformName"] = "Gutscheine Bern";
        settings["OpenMavn:Notifications:Templates:FallbackLanguage"] = "de";
        using var services = Services(settings, b => b.AddSendGridEmail());

        var options = services.GetRequiredService<IOptions<NotificationTemplateOptions>>().Value;

        Assert.Equal((_folder, "Gutscheine Bern", "de"), (options.Directory, options.PlatformName, options.FallbackLanguage));
    }

    [Fact]
    public void Registering_a_channel_twice_registers_one_sender_and_one_validator()
    {
        using var services = Services(
            new(ValidSendGrid().Concat(ValidFirebase())),
            b => b.AddSqliteStorage($"Data Source={Path.Combine(_folder, "openmavn.db")}")
                .AddSendGridEmail().AddSendGridEmail().AddFirebasePush().AddFirebasePush());

        Assert.Single(services.GetServices<IValidateOptions<SendGridEmailOptions>>());
        Assert.Single(services.GetServices<IValidateOptions<FirebasePushOptions>>());
        using var scope = services.CreateScope();
        var channels = scope.ServiceProvider.GetServices<INotificationSender>().Select(s => s.Channel).ToList();
        Assert.Single(channels, c => c == "email");
        Assert.Single(channels, c => c == "push");
    }

    [Fact]
    public async Task A_host_with_bad_notification_settings_does_not_start()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(_folder, "openmavn.db")}",
            ["OpenMavn:Jobs:Enabled"] = "false",
            ["OpenMavn:Notifications:SendGrid:FromEmail"] = "gutscheine@example.ch",
        });
        builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn")).AddSqliteStorage().AddSendGridEmail();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("OpenMavn:Notifications:SendGrid:ApiKey", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "openmavn.db")), "validation runs before the database is touched");
    }
}
