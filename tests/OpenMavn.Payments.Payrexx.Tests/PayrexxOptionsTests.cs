using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Payments;

namespace OpenMavn.Payments.Payrexx.Tests;

public sealed class PayrexxOptionsTests
{
    private static ServiceProvider Services(string environment, Dictionary<string, string?> settings, Action<PayrexxOptions>? configure = null, bool twice = false)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = environment });
        var builder = services.AddOpenMavn(configuration.GetSection("OpenMavn"));
        builder.AddPayrexxPayments(configure);
        if (twice)
        {
            builder.AddPayrexxPayments(configure);
        }

        return services.BuildServiceProvider();
    }

    [Fact]
    public void Binds_from_OpenMavn_Payments_Payrexx()
    {
        using var services = Services(Environments.Development, new()
        {
            ["OpenMavn:Payments:Payrexx:BaseUrl"] = "http://127.0.0.1:5123/payrexx",
            ["OpenMavn:Payments:Payrexx:ApiVersion"] = "1.16",
            ["OpenMavn:Payments:Payrexx:AuthScheme"] = "Signature",
            ["OpenMavn:Payments:Payrexx:AllowTestPayments"] = "false",
            ["OpenMavn:Payments:Payrexx:RequestTimeout"] = "00:00:07",
        });

        var options = services.GetRequiredService<IOptions<PayrexxOptions>>().Value;

        Assert.Equal("http://127.0.0.1:5123/payrexx", options.BaseUrl);
        Assert.Equal("1.16", options.ApiVersion);
        Assert.Equal(PayrexxAuthScheme.Signature, options.AuthScheme);
        Assert.False(options.AllowTestPayments);
        Assert.Equal(TimeSpan.FromSeconds(7), options.RequestTimeout);
    }

    [Fact]
    public void Defaults_follow_the_contract()
    {
        var options = new PayrexxOptions();

        Assert.Equal("https://api.payrexx.com", options.BaseUrl);
        Assert.Equal("1.15", options.ApiVersion);
        Assert.Equal(PayrexxAuthScheme.ApiKey, options.AuthScheme);
        Assert.Equal(TimeSpan.FromSeconds(15), options.RequestTimeout);
    }

    [Theory]
    [InlineData("Production", false)]
    [InlineData("Development", true)]
    [InlineData("Staging", true)]
    public void Test_payments_are_refused_in_Production_unless_configured(string environment, bool expected)
    {
        using var services = Services(environment, []);
        var provider = services.GetServices<IPaymentProvider>().Single(p => p.Name == "payrexx");

        Assert.Equal(expected, provider.AcceptsTestPayments);
    }

    [Fact]
    public void Production_may_opt_in_to_test_payments_explicitly()
    {
        using var services = Services(Environments.Production, [], o => o.AllowTestPayments = true);

        Assert.True(services.GetServices<IPaymentProvider>().Single(p => p.Name == "payrexx").AcceptsTestPayments);
    }

    [Fact]
    public void Registering_twice_registers_one_provider_and_one_validator()
    {
        using var services = Services(Environments.Development, [], o => o.ApiVersion = "1.15", twice: true);

        Assert.Single(services.GetServices<IPaymentProvider>(), p => p.Name == "payrexx");
        Assert.Single(services.GetServices<IValidateOptions<PayrexxOptions>>(), v => v.GetType().Assembly == typeof(PayrexxOptions).Assembly);
        Assert.Same(services.GetRequiredService<PayrexxPaymentProvider>(), services.GetServices<IPaymentProvider>().Single(p => p.Name == "payrexx"));
    }

    [Theory]
    [InlineData("BaseUrl", "api.payrexx.com")]
    [InlineData("BaseUrl", "/payrexx")]
    [InlineData("BaseUrl", "ftp://api.payrexx.com")]
    [InlineData("BaseUrl", "https://api.payrexx.com/?x=1")]
    [InlineData("BaseUrl", "")]
    [InlineData("ApiVersion", "v1.15")]
    [InlineData("ApiVersion", "1")]
    [InlineData("ApiVersion", "1.15.1")]
    [InlineData("ApiVersion", "1.x")]
    [InlineData("ApiVersion", "0.9")]
    [InlineData("RequestTimeout", "00:00:00")]
    [InlineData("RequestTimeout", "-00:00:01")]
    public void Invalid_settings_fail_at_start_up(string key, string value)
    {
        using var services = Services(Environments.Development, new() { [$"OpenMavn:Payments:Payrexx:{key}"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<PayrexxOptions>>().Value);
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validation_runs_on_start()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OpenMavn:Payments:Payrexx:ApiVersion"] = "latest" });
        builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn")).AddPayrexxPayments();
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Contains("OpenMavn:Payments:Payrexx:ApiVersion", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.15")]
    [InlineData("1.0")]
    [InlineData("2.3")]
    public void Accepts_version_numbers(string version)
    {
        using var services = Services(Environments.Development, new() { ["OpenMavn:Payments:Payrexx:ApiVersion"] = version });

        Assert.Equal(version, services.GetRequiredService<IOptions<PayrexxOptions>>().Value.ApiVersion);
    }
}
