using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Payments;

namespace OpenMavn.Samples.QrBillPayments.Tests;

public sealed class OptionsTests
{
    [Theory]
    [InlineData("BillBaseUrl", "/bills/")]
    [InlineData("BillBaseUrl", "https://shop.example.ch/bills")]
    [InlineData("BillBaseUrl", "ftp://shop.example.ch/bills/")]
    [InlineData("ReferencePrefix", "12a")]
    [InlineData("ReferencePrefix", "12345678901")]
    [InlineData("MaxImportBytes", "10")]
    [InlineData("ConnectionString", "Mode=Memory")]
    public void A_bad_setting_is_named_at_start_up(string key, string value)
    {
        using var services = Build(new() { [$"OpenMavn:Payments:QrBill:{key}"] = value });
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<QrBillOptions>>().Value);
        Assert.Contains($"OpenMavn:Payments:QrBill:{key}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_binds_and_two_calls_register_one_provider()
    {
        using var services = Build(new() { ["OpenMavn:Payments:QrBill:ReferencePrefix"] = "77", ["OpenMavn:Payments:QrBill:ApplyPaymentsAfterCancellation"] = "true" }, twice: true);
        var options = services.GetRequiredService<IOptions<QrBillOptions>>().Value;
        Assert.Equal("77", options.ReferencePrefix);
        Assert.True(options.ApplyPaymentsAfterCancellation);
        Assert.Single(services.GetServices<IPaymentProvider>(), p => p.Name == "qrbill");
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, bool twice = false)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        var builder = services.AddOpenMavn(configuration.GetSection("OpenMavn")).AddSqliteStorage("Data Source=unused.db").AddQrBillPayments();
        if (twice)
        {
            builder.AddQrBillPayments();
        }

        return services.BuildServiceProvider();
    }
}
