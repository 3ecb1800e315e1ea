using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Payments;

/// <summary>Options of the built-in sandbox payment provider (<c>OpenMavn:Payments:Sandbox</c>).</summary>
public sealed class SandboxPaymentOptions
{
    /// <summary>Base of the fake checkout links. Default <c>https://localhost/sandbox/checkout/</c>.</summary>
    public string CheckoutBaseUrl { get; set; } = "https://localhost/sandbox/checkout/";

    /// <summary>The sandbox refuses to start in the Production environment unless this is true.</summary>
    public bool AllowInProduction { get; set; }

    /// <summary>
    /// Every sandbox payment is a test payment; set false to see a host refuse them (as a live Payrexx setup does).
    /// Default true.
    /// </summary>
    public bool AcceptTestPayments { get; set; } = true;
}

/// <summary>
/// A payment provider for development, demos and tests: checkouts are stored in the OpenMavn database and are
/// confirmed or failed on command (<see cref="ConfirmAsync"/>, <see cref="FailAsync"/>), exactly as if the
/// payment page had reported back. It moves no money, so it refuses to run in Production unless explicitly allowed.
/// </summary>
public sealed class SandboxPaymentProvider(IServiceScopeFactory scopes, TimeProvider time, IOptions<SandboxPaymentOptions> options) : IPaymentProvider
{
    /// <summary>The provider name.</summary>
    public const string ProviderName = "sandbox";

    /// <inheritdoc />
    public string Name => ProviderName;

    /// <inheritdoc />
    public bool AcceptsTestPayments => options.Value.AcceptTestPayments;

    /// <inheritdoc />
    public Task VerifyAccountAsync(PaymentAccountCredentials account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        return string.IsNullOrWhiteSpace(account.Secret)
            ? throw new ProviderException(Name, "An API secret is required.", transient: false)
            : Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<CheckoutSession> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var payment = await db.SandboxPayments.AsNoTracking().FirstOrDefaultAsync(p => p.OrderId == request.OrderId, cancellationToken);
        if (payment is null)
        {
            payment = new SandboxPayment
            {
                Id = "sbx_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
                OrderId = request.OrderId,
                Amount = request.Amount.Amount,
                Currency = request.Amount.Currency,
                Status = PaymentStatus.Pending,
                CreatedAt = time.GetUtcNow(),
            };
            db.SandboxPayments.Add(payment);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                db.ChangeTracker.Clear();
                payment = await db.SandboxPayments.AsNoTracking().FirstAsync(p => p.OrderId == request.OrderId, cancellationToken);
            }
        }

        return new CheckoutSession(payment.Id, new Uri(new Uri(options.Value.CheckoutBaseUrl), payment.Id));
    }

    /// <inheritdoc />
    public async Task<PaymentStatusReport> GetPaymentAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var payment = await db.SandboxPayments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerPaymentId, cancellationToken)
            ?? throw new ProviderException(Name, $"Unknown payment {providerPaymentId}.", transient: false);
        return new PaymentStatusReport(payment.Id, payment.Status, payment.Status.ToString(), payment.Amount, payment.Currency, payment.OrderId, payment.Status == PaymentStatus.Pending ? null : payment.Id, IsTest: true);
    }

    /// <inheritdoc />
    public async Task CancelCheckoutAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        await db.SandboxPayments.Where(p => p.Id == providerPaymentId && p.Status == PaymentStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Cancelled), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<RefundOutcome> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var reference = "sbxr_" + request.RefundId.ToString("N");
        if (await db.SandboxRefunds.AnyAsync(r => r.Id == reference, cancellationToken))
        {
            return new RefundOutcome(RefundStatus.Completed, reference);
        }

        var payment = await db.SandboxPayments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == request.ProviderPaymentId, cancellationToken)
            ?? throw new ProviderException(Name, $"Unknown payment {request.ProviderPaymentId}.", transient: false);
        if (payment.Status is not (PaymentStatus.Confirmed or PaymentStatus.PartiallyRefunded))
        {
            throw new ProviderException(Name, $"Payment {payment.Id} is {payment.Status} and cannot be refunded.", transient: false);
        }

        if (request.Amount.Amount <= 0 || payment.RefundedAmount + request.Amount.Amount > payment.Amount)
        {
            throw new ProviderException(Name, "The refund exceeds what is left of the payment.", transient: false);
        }

        // The guarded update re-checks status and balance atomically, so refunds of one payment delivered side by side
        // (several dispatchers) neither lose an update nor refund more than was paid.
        var amount = request.Amount.Amount;
        var applied = await db.InTransactionAsync(
            async ct =>
            {
                var rows = await db.SandboxPayments
                    .Where(p => p.Id == payment.Id && (p.Status == PaymentStatus.Confirmed || p.Status == PaymentStatus.PartiallyRefunded) && p.RefundedAmount + amount <= p.Amount)
                    .ExecuteUpdateAsync(
                        s => s.SetProperty(p => p.Status, p => p.RefundedAmount + amount == p.Amount ? PaymentStatus.Refunded : PaymentStatus.PartiallyRefunded)
                            .SetProperty(p => p.RefundedAmount, p => p.RefundedAmount + amount),
                        ct);
                if (rows == 1)
                {
                    db.SandboxRefunds.Add(new SandboxRefund { Id = reference, PaymentId = payment.Id, Amount = amount, CreatedAt = time.GetUtcNow() });
                }

                return rows == 1;
            },
            cancellationToken);
        return applied
            ? new RefundOutcome(RefundStatus.Completed, reference)
            : throw new ProviderException(Name, "The refund exceeds what is left of the payment.", transient: false);
    }

    /// <summary>Webhook body: <c>{"paymentId":"sbx_…"}</c>.</summary>
    public Task<PaymentWebhookHint?> ParseWebhookAsync(PaymentWebhookRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<PaymentWebhookHint?>(cancellationToken);
        }

        try
        {
            using var document = JsonDocument.Parse(request.Body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                // An array, string, number or null names no payment (TryGetProperty would throw on it).
                return Task.FromResult<PaymentWebhookHint?>(null);
            }

            var id = document.RootElement.TryGetProperty("paymentId", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var status = document.RootElement.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : "";
            return Task.FromResult(id is null ? null : new PaymentWebhookHint(id, null, $"{id}:{status}"));
        }
        catch (JsonException)
        {
            return Task.FromResult<PaymentWebhookHint?>(null);
        }
    }

    /// <summary>Simulates the customer paying: marks the checkout paid and processes it like a verified webhook.</summary>
    public Task<PaymentApplication> ConfirmAsync(string providerPaymentId, CancellationToken cancellationToken = default) =>
        SetAndApplyAsync(providerPaymentId, PaymentStatus.Confirmed, cancellationToken);

    /// <summary>Simulates a declined payment.</summary>
    public Task<PaymentApplication> FailAsync(string providerPaymentId, CancellationToken cancellationToken = default) =>
        SetAndApplyAsync(providerPaymentId, PaymentStatus.Failed, cancellationToken);

    private async Task<PaymentApplication> SetAndApplyAsync(string providerPaymentId, PaymentStatus status, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var payment = await db.SandboxPayments.FirstOrDefaultAsync(p => p.Id == providerPaymentId, cancellationToken)
            ?? throw new NotFoundException("payment.not_found", "No such sandbox payment.");
        if (payment.Status is PaymentStatus.Pending or PaymentStatus.Cancelled)
        {
            // A real gateway may still take a payment on a page opened before it was cancelled: so does the sandbox.
            payment.Status = status;
            await db.SaveChangesAsync(cancellationToken);
        }

        return await scope.ServiceProvider.GetRequiredService<PurchaseService>().RefreshPaymentAsync(payment.OrderId, cancellationToken);
    }
}

/// <summary>A refund made by the sandbox provider (for idempotency).</summary>
public sealed class SandboxRefund
{
    /// <summary>Reference (<c>sbxr_</c> + refund id).</summary>
    public string Id { get; internal set; } = "";

    /// <summary>Payment.</summary>
    public string PaymentId { get; internal set; } = "";

    /// <summary>Amount.</summary>
    public long Amount { get; internal set; }

    /// <summary>When.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }
}

internal sealed class SandboxPaymentOptionsValidator(IServiceProvider services) : IValidateOptions<SandboxPaymentOptions>
{
    public ValidateOptionsResult Validate(string? name, SandboxPaymentOptions options)
    {
        var environment = services.GetService<IHostEnvironment>()?.EnvironmentName
            ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? Environments.Production;
        if (string.Equals(environment, Environments.Production, StringComparison.OrdinalIgnoreCase) && !options.AllowInProduction)
        {
            return ValidateOptionsResult.Fail("The sandbox payment provider moves no money and is refused in Production. Register a real provider, or set OpenMavn:Payments:Sandbox:AllowInProduction=true for a demo.");
        }

        // On Linux and macOS "/sandbox/…" parses as an absolute file:// URI; a checkout link must not be one.
        return Uri.TryCreate(options.CheckoutBaseUrl, UriKind.Absolute, out var baseUrl) && !baseUrl.IsFile
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("OpenMavn:Payments:Sandbox:CheckoutBaseUrl must be an absolute URL.");
    }
}
