using System.Collections.Concurrent;
using System.Text;
using OpenMavn.Core.Payments;
using OpenMavn.Testing.Payments;
using Xunit.Sdk;

namespace OpenMavn.Testing.Tests;

/// <summary>
/// The payment kit can fail: each test puts a deliberately broken provider in front of the sandbox, runs one of the
/// kit's checks on it and expects that check to fail with the contract in its message. (The same checks pass on
/// the sandbox itself in <see cref="SandboxPaymentConformance"/>.)
/// </summary>
public sealed class PaymentsKitCatchesTests
{
    [Fact]
    public async Task Kit_catches_a_provider_that_refunds_a_repeated_refund_id_twice()
    {
        var error = await RunAsync(s => new RefundsEveryCall(s), kit => kit.The_same_refund_id_twice_refunds_once());
        Assert.Contains("idempotent per RefundId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_provider_that_sends_a_lost_refund_again()
    {
        var error = await RunAsync(s => new RefundsEveryCall(s), kit => kit.A_refund_whose_answer_was_lost_is_not_sent_again());
        Assert.Contains("refunded twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_provider_that_trusts_a_forged_webhook()
    {
        var error = await RunAsync(s => new TrustsWebhooks(s), kit => kit.A_forged_paid_webhook_does_not_make_an_unpaid_checkout_confirmed());
        Assert.Contains("Webhooks are hints, never the truth", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_provider_whose_GetPayment_loses_the_order_id()
    {
        var error = await RunAsync(s => new LosesOrderId(s), kit => kit.A_new_checkout_reads_back_as_pending_with_the_requested_amount_currency_and_order());
        Assert.Contains("must report the order id sent at checkout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_provider_that_ignores_a_cancelled_token()
    {
        var error = await RunAsync(s => new IgnoresCancellation(s), kit => kit.Refund_honours_a_cancelled_token());
        Assert.Contains("already-cancelled token must throw OperationCanceledException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_webhook_dedupe_key_that_ignores_the_status()
    {
        var error = await RunAsync(s => new KeysWithoutStatus(s), kit => kit.A_webhook_for_another_status_has_another_dedupe_key());
        Assert.Contains("must have another DedupeKey", error.Message, StringComparison.Ordinal);
    }

    private static async Task<XunitException> RunAsync(Func<SandboxPaymentProvider, IPaymentProvider> wrap, Func<BrokenSandbox, Task> check)
    {
        var kit = new BrokenSandbox(wrap);
        await kit.InitializeAsync();
        try
        {
            var error = await Record.ExceptionAsync(() => check(kit));
            Assert.True(error is not null, "The kit's check passed on a broken provider.");
            return Assert.IsAssignableFrom<XunitException>(error);
        }
        finally
        {
            await kit.DisposeAsync();
        }
    }

    /// <summary>The kit over a broken provider; internal, so xunit does not run it as a test class of its own.</summary>
    internal sealed class BrokenSandbox(Func<SandboxPaymentProvider, IPaymentProvider> wrap) : SandboxPaymentConformanceBase
    {
        protected override IPaymentProvider Wrap(SandboxPaymentProvider sandbox) => wrap(sandbox);
    }

    /// <summary>Treats every call as a new refund: the refund id is not passed on, nor what was refunded before.</summary>
    private sealed class RefundsEveryCall(IPaymentProvider inner) : PaymentsForwardingProvider(inner)
    {
        public override Task<RefundOutcome> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default) =>
            Inner.RefundAsync(request with { RefundId = Guid.NewGuid(), AlreadyRefunded = null }, cancellationToken);
    }

    /// <summary>Believes what webhooks claim and reports it from GetPayment.</summary>
    private sealed class TrustsWebhooks(IPaymentProvider inner) : PaymentsForwardingProvider(inner)
    {
        private readonly ConcurrentDictionary<string, PaymentStatus> _claimed = new(StringComparer.Ordinal);

        public override async Task<PaymentWebhookHint?> ParseWebhookAsync(PaymentWebhookRequest request, CancellationToken cancellationToken = default)
        {
            var hint = await Inner.ParseWebhookAsync(request, cancellationToken);
            if (hint?.ProviderPaymentId is { } id && Encoding.UTF8.GetString(request.Body.Span).Contains("\"Confirmed\"", StringComparison.Ordinal))
            {
                _claimed[id] = PaymentStatus.Confirmed;
            }

            return hint;
        }

        public override async Task<PaymentStatusReport> GetPaymentAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default)
        {
            var report = await Inner.GetPaymentAsync(account, providerPaymentId, cancellationToken);
            return _claimed.TryGetValue(providerPaymentId, out var claimed) ? report with { Status = claimed } : report;
        }
    }

    /// <summary>Reports payments without the order id they were created for.</summary>
    private sealed class LosesOrderId(IPaymentProvider inner) : PaymentsForwardingProvider(inner)
    {
        public override async Task<PaymentStatusReport> GetPaymentAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default) =>
            await Inner.GetPaymentAsync(account, providerPaymentId, cancellationToken) with { OrderId = null };
    }

    /// <summary>Refunds whatever the token says.</summary>
    private sealed class IgnoresCancellation(IPaymentProvider inner) : PaymentsForwardingProvider(inner)
    {
        public override Task<RefundOutcome> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default) =>
            Inner.RefundAsync(request, CancellationToken.None);
    }

    /// <summary>Deduplicates webhooks on the payment alone, so a later status is dropped as a repeat.</summary>
    private sealed class KeysWithoutStatus(IPaymentProvider inner) : PaymentsForwardingProvider(inner)
    {
        public override async Task<PaymentWebhookHint?> ParseWebhookAsync(PaymentWebhookRequest request, CancellationToken cancellationToken = default) =>
            await Inner.ParseWebhookAsync(request, cancellationToken) is { } hint ? hint with { DedupeKey = hint.ProviderPaymentId ?? "" } : null;
    }
}
