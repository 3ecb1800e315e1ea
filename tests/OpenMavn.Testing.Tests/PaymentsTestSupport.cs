using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using OpenMavn.Core.Payments;

namespace OpenMavn.Testing.Tests;

/// <summary>An <see cref="IHostEnvironment"/> with a chosen name (the sandbox refuses Production).</summary>
internal sealed class PaymentsTestEnvironment(string name) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = name;

    public string ApplicationName { get; set; } = "OpenMavn.Testing.Tests";

    public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}

/// <summary>
/// One OpenMavn service provider on a SQLite file for all sandbox conformance tests of this run: the sandbox keeps
/// its checkouts in the OpenMavn database, and every test uses fresh order ids, so they share it.
/// </summary>
internal static class PaymentsSandboxDatabase
{
    private static readonly Lazy<Task<ServiceProvider>> Shared = new(StartAsync);

    public static Task<ServiceProvider> ServicesAsync() => Shared.Value;

    private static async Task<ServiceProvider> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-tests", "payments-kit-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var services = new ServiceCollection();
        services.AddSingleton<IHostEnvironment>(new PaymentsTestEnvironment(Environments.Development));
        services.AddOpenMavn(o => o.Jobs.Enabled = false)
            .AddSqliteStorage($"Data Source={Path.Combine(directory, "openmavn.db")}")
            .AddSandboxPayments();
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        await provider.MigrateOpenMavnDatabaseAsync();
        return provider;
    }
}

/// <summary>Passes every call on to another provider; the broken providers of the Kit_catches tests override one call.</summary>
internal class PaymentsForwardingProvider(IPaymentProvider inner) : IPaymentProvider
{
    protected IPaymentProvider Inner { get; } = inner;

    public virtual string Name => Inner.Name;

    public virtual bool AcceptsTestPayments => Inner.AcceptsTestPayments;

    public virtual Task VerifyAccountAsync(PaymentAccountCredentials account, CancellationToken cancellationToken = default) =>
        Inner.VerifyAccountAsync(account, cancellationToken);

    public virtual Task<CheckoutSession> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default) =>
        Inner.CreateCheckoutAsync(request, cancellationToken);

    public virtual Task<PaymentStatusReport> GetPaymentAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default) =>
        Inner.GetPaymentAsync(account, providerPaymentId, cancellationToken);

    public virtual Task CancelCheckoutAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default) =>
        Inner.CancelCheckoutAsync(account, providerPaymentId, cancellationToken);

    public virtual Task<RefundOutcome> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default) =>
        Inner.RefundAsync(request, cancellationToken);

    public virtual Task<PaymentWebhookHint?> ParseWebhookAsync(PaymentWebhookRequest request, CancellationToken cancellationToken = default) =>
        Inner.ParseWebhookAsync(request, cancellationToken);
}
