using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Payments;
using Xunit;

namespace OpenMavn.Testing.Payments;

/// <summary>
/// The conformance suite for an <see cref="IPaymentProvider"/>: inherit it in a test project, implement the hooks
/// (create the provider, make the customer pay, build the webhook the provider would receive) and every
/// <c>[Fact]</c> here runs against your provider. The checks are what OpenMavn.Core relies on: checkouts that read
/// back with the amount, currency and reference Core stored, status transitions, webhooks parsed into hints that are
/// never trusted, refunds (full and partial) idempotent per refund id and safe when an answer was lost, clear
/// final <see cref="ProviderException"/>s, cancellation tokens honoured and bad configuration refused at start-up.
/// </summary>
/// <remarks>
/// <para>
/// xunit 2 has no dynamic skip: a test of a capability your provider declares it lacks (<see cref="SupportsPartialRefunds"/>,
/// <see cref="SupportsDecline"/>, a provider without webhooks, …) returns early and passes. Every test is virtual;
/// overriding one to skip it is acceptable only when your provider documents the deviation and Core does not depend
/// on it in your deployment (say why in the override).
/// </para>
/// <para>
/// Refunds are sent the way Core sends them: <see cref="RefundRequest.TransactionId"/> is what
/// <see cref="IPaymentProvider.GetPaymentAsync"/> reported after payment, <see cref="RefundRequest.IsFullRefund"/> is
/// true when the amount is the whole payment, and <see cref="RefundRequest.AlreadyRefunded"/> is the sum of the
/// <em>other</em> refunds of the payment that Core has recorded as completed or pending.
/// </para>
/// <para>Each test creates its own checkouts with fresh order ids, so the tests of one class may share a provider account.</para>
/// </remarks>
public abstract class PaymentProviderConformanceTests : IAsyncLifetime
{
    private readonly Dictionary<string, Dictionary<Guid, long>> _recordedRefunds = new(StringComparer.Ordinal);
    private IPaymentProvider? _provider;

    /// <summary>The provider under test (created by <see cref="CreateProviderAsync"/> before each test).</summary>
    protected IPaymentProvider Provider => _provider ?? throw new InvalidOperationException("The provider is created in InitializeAsync.");

    // ---- hooks ----

    /// <summary>Creates the provider under test, pointed at whatever stand-in it needs. Called before each test.</summary>
    protected abstract Task<IPaymentProvider> CreateProviderAsync();

    /// <summary>Merchant credentials the provider accepts.</summary>
    protected abstract PaymentAccountCredentials Account { get; }

    /// <summary>Merchant credentials the provider refuses (a wrong secret).</summary>
    protected abstract PaymentAccountCredentials RefusedAccount { get; }

    /// <summary>
    /// The customer pays <paramref name="session"/> in full (what the payment page does). Returns true when the
    /// payment was made in test mode, i.e. when <see cref="PaymentStatusReport.IsTest"/> must be true.
    /// </summary>
    protected abstract Task<bool> PayAsync(CheckoutRequest request, CheckoutSession session);

    /// <summary>Whether <see cref="DeclineAsync"/> can make a payment attempt fail. Default false (the decline test returns early).</summary>
    protected virtual bool SupportsDecline => false;

    /// <summary>The customer's payment of <paramref name="session"/> is declined (only when <see cref="SupportsDecline"/>).</summary>
    protected virtual Task DeclineAsync(CheckoutRequest request, CheckoutSession session) =>
        throw new NotSupportedException("Override DeclineAsync when SupportsDecline is true.");

    /// <summary>
    /// The raw webhook the provider would receive for <paramref name="session"/> reporting <paramref name="status"/>,
    /// whether or not that is true (the suite also uses it to forge a "paid" webhook for an unpaid checkout: build it
    /// exactly as the provider's service would, without asking the service to change anything). Return null when the
    /// provider has no webhooks: the webhook tests then return early.
    /// </summary>
    protected abstract Task<PaymentWebhookRequest?> WebhookForAsync(CheckoutSession session, PaymentStatus status);

    /// <summary>
    /// How many checkouts exist on the provider's side for <paramref name="orderId"/>, or null when that cannot be
    /// told (default). Used to show that a create with a cancelled token made none.
    /// </summary>
    protected virtual Task<int?> CountCheckoutsAsync(Guid orderId) => Task.FromResult<int?>(null);

    /// <summary>Whether refunds of part of a payment are possible. Default true.</summary>
    protected virtual bool SupportsPartialRefunds => true;

    /// <summary>
    /// Whether a second <see cref="IPaymentProvider.CreateCheckoutAsync"/> for the same order returns the first
    /// checkout. Default false: Core creates at most one checkout per order, so this is checked only when declared.
    /// </summary>
    protected virtual bool DeduplicatesCheckoutsByOrderId => false;

    /// <summary>
    /// Whether <see cref="PaymentStatusReport.OrderId"/> carries the order id sent at checkout. Default true. Core
    /// accepts a report without one (it then matches on the payment id alone); a provider that never reports the
    /// reference may answer false, and then only a wrong order id fails.
    /// </summary>
    protected virtual bool ReportsOrderId => true;

    /// <summary>A well-formed payment id that does not exist at the provider. Default <c>999999999</c>.</summary>
    protected virtual string UnknownPaymentId => "999999999";

    /// <summary>What a test checkout costs. Default CHF 50.00 (5000 minor units; keep it even, partial refunds split it).</summary>
    protected virtual Money CheckoutAmount => new(5000, "CHF");

    /// <summary>The clock used for <see cref="CheckoutRequest.ExpiresAt"/>. Default the system clock.</summary>
    protected virtual TimeProvider Time => TimeProvider.System;

    /// <summary>
    /// Registrations with one invalid setting each: <c>Name</c> is the setting, and the error must name it;
    /// <c>Configure</c> registers the provider with that setting wrong. Empty by default (the test returns early).
    /// </summary>
    protected virtual IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations => [];

    /// <summary>
    /// A registration of the provider with valid settings, to show the start-up checks refuse only what is wrong.
    /// Null by default (not checked).
    /// </summary>
    protected virtual Action<IOpenMavnBuilder>? ValidConfiguration => null;

    /// <summary>The in-memory <c>OpenMavn</c> configuration section the configuration tests build on. Empty by default.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>();

    /// <summary>Releases what <see cref="CreateProviderAsync"/> started (stand-ins, service providers). Default nothing.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>A fresh checkout request for a new order of <see cref="CheckoutAmount"/>.</summary>
    protected virtual CheckoutRequest NewCheckoutRequest()
    {
        var orderId = Guid.NewGuid();
        return new CheckoutRequest(
            orderId,
            Account,
            CheckoutAmount,
            "Conformance voucher × 1",
            "en",
            "buyer@example.com",
            Time.GetUtcNow().AddMinutes(15),
            new Uri($"https://shop.example.com/orders/{orderId}/success"),
            new Uri($"https://shop.example.com/orders/{orderId}/failed"),
            new Uri($"https://shop.example.com/orders/{orderId}/cancelled"));
    }

    /// <inheritdoc />
    public virtual async Task InitializeAsync() => _provider = await CreateProviderAsync();

    /// <inheritdoc />
    public virtual async Task DisposeAsync() => await CleanUpAsync();

    // ---- name and account ----

    /// <summary>The name is non-empty, lower-case and URL-safe: it is a configuration key and part of <c>/webhooks/payments/{name}</c>.</summary>
    [Fact]
    public virtual Task Name_is_lower_case_and_url_safe()
    {
        var name = Provider.Name;
        Assert.False(string.IsNullOrEmpty(name), "Name must not be empty: it is used in configuration and in the webhook URL /webhooks/payments/{name}.");
        Assert.True(
            name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'),
            $"Name '{name}' must be lower-case ASCII letters, digits, '-', '_' or '.': it appears unescaped in /webhooks/payments/{{name}}.");
        Assert.Equal(name, Provider.Name);
        return Task.CompletedTask;
    }

    /// <summary>Valid merchant credentials pass <see cref="IPaymentProvider.VerifyAccountAsync"/>.</summary>
    [Fact]
    public virtual async Task VerifyAccount_accepts_valid_credentials()
    {
        var error = await Record.ExceptionAsync(() => Provider.VerifyAccountAsync(Account));
        Assert.True(error is null, $"VerifyAccountAsync must accept the valid account; it threw {Describe(error)}.");
    }

    /// <summary>Refused credentials throw a final (not transient) <see cref="ProviderException"/>: Core shows it to the merchant.</summary>
    [Fact]
    public virtual async Task VerifyAccount_refuses_invalid_credentials_with_a_final_ProviderException()
    {
        await ThrowsFinalAsync(
            () => Provider.VerifyAccountAsync(RefusedAccount),
            "VerifyAccountAsync with a wrong secret must throw a ProviderException that is not transient (Core tells the merchant the credentials were refused)");
    }

    // ---- checkout ----

    /// <summary>A checkout has a non-empty id and an absolute http(s) URL the customer is sent to.</summary>
    [Fact]
    public virtual async Task CreateCheckout_returns_an_id_and_an_absolute_http_url()
    {
        var (_, session) = await CreateAsync();
        Assert.False(string.IsNullOrWhiteSpace(session.ProviderPaymentId), "CreateCheckoutAsync must return a non-empty ProviderPaymentId: Core stores it and reads the payment with it.");
        Assert.True(
            session.CheckoutUrl.IsAbsoluteUri && (session.CheckoutUrl.Scheme == Uri.UriSchemeHttps || session.CheckoutUrl.Scheme == Uri.UriSchemeHttp),
            $"CreateCheckoutAsync must return an absolute http(s) CheckoutUrl (the customer's browser is redirected to it); got '{session.CheckoutUrl}'.");
    }

    /// <summary>A new checkout reads back as pending (or unknown) with the requested amount, currency and order id.</summary>
    [Fact]
    public virtual async Task A_new_checkout_reads_back_as_pending_with_the_requested_amount_currency_and_order()
    {
        var (request, session) = await CreateAsync();
        var report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);

        Assert.True(
            report.Status is PaymentStatus.Pending or PaymentStatus.Unknown,
            $"An unpaid checkout must read back as Pending (or Unknown); GetPaymentAsync reported {report.Status} ('{report.RawStatus}').");
        AssertSamePayment(request, session, report, "an unpaid checkout");
    }

    /// <summary>Two orders get two different checkouts.</summary>
    [Fact]
    public virtual async Task Two_orders_get_two_different_checkouts()
    {
        var (_, first) = await CreateAsync();
        var (_, second) = await CreateAsync();
        Assert.True(
            first.ProviderPaymentId != second.ProviderPaymentId,
            $"Two different orders must get two different checkouts; both got '{first.ProviderPaymentId}'.");
    }

    /// <summary>When <see cref="DeduplicatesCheckoutsByOrderId"/>: a second create for the same order returns the first checkout.</summary>
    [Fact]
    public virtual async Task A_second_create_for_the_same_order_returns_the_same_checkout()
    {
        if (!DeduplicatesCheckoutsByOrderId)
        {
            return; // Declared not to deduplicate: Core never creates twice for one order, so nothing more is owed.
        }

        var (request, first) = await CreateAsync();
        var second = await Provider.CreateCheckoutAsync(request);
        Assert.True(
            first.ProviderPaymentId == second.ProviderPaymentId,
            $"The provider declares DeduplicatesCheckoutsByOrderId, but a second create for order {request.OrderId} returned '{second.ProviderPaymentId}' instead of '{first.ProviderPaymentId}'.");
    }

    // ---- status transitions ----

    /// <summary>A paid checkout reads back as confirmed, with a transaction id and the amount and currency unchanged.</summary>
    [Fact]
    public virtual async Task A_paid_checkout_reads_back_as_confirmed_with_a_transaction_id()
    {
        var (request, session) = await CreateAsync();
        var isTest = await PayAsync(request, session);
        var report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);

        Assert.True(report.Status == PaymentStatus.Confirmed, $"A paid checkout must read back as Confirmed; GetPaymentAsync reported {report.Status} ('{report.RawStatus}').");
        Assert.False(string.IsNullOrWhiteSpace(report.TransactionId), "A confirmed payment must carry a TransactionId: Core stores it and refunds with it.");
        AssertSamePayment(request, session, report, "a paid checkout");
        Assert.True(report.IsTest == isTest, $"IsTest must be {isTest} for this payment (Core refuses test payments in a live deployment); it was {report.IsTest}.");
    }

    /// <summary>A declined payment reads back as failed or cancelled, never confirmed (when <see cref="SupportsDecline"/>).</summary>
    [Fact]
    public virtual async Task A_declined_checkout_is_never_reported_confirmed()
    {
        if (!SupportsDecline)
        {
            return; // The environment cannot decline a payment.
        }

        var (request, session) = await CreateAsync();
        await DeclineAsync(request, session);
        var report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);
        Assert.True(
            report.Status is PaymentStatus.Failed or PaymentStatus.Cancelled,
            $"A declined payment must read back as Failed or Cancelled (Core then returns the order's stock); GetPaymentAsync reported {report.Status} ('{report.RawStatus}').");
        Assert.True(report.ProviderPaymentId == session.ProviderPaymentId, $"GetPaymentAsync must report the payment id asked for ('{session.ProviderPaymentId}'), not '{report.ProviderPaymentId}'.");
    }

    /// <summary>A cancelled unpaid checkout is never reported confirmed (gone is fine: a final <see cref="ProviderException"/>).</summary>
    [Fact]
    public virtual async Task A_cancelled_checkout_is_never_reported_confirmed()
    {
        var (_, session) = await CreateAsync();
        await Provider.CancelCheckoutAsync(Account, session.ProviderPaymentId);
        await AssertNotConfirmedAsync(session, "after CancelCheckoutAsync");
    }

    /// <summary>Cancelling twice succeeds: a checkout that is already gone counts as cancelled (the outbox may repeat the call).</summary>
    [Fact]
    public virtual async Task CancelCheckout_twice_succeeds()
    {
        var (_, session) = await CreateAsync();
        await Provider.CancelCheckoutAsync(Account, session.ProviderPaymentId);
        var error = await Record.ExceptionAsync(() => Provider.CancelCheckoutAsync(Account, session.ProviderPaymentId));
        Assert.True(error is null, $"CancelCheckoutAsync must succeed when the checkout is already cancelled or gone (Core's outbox repeats calls whose answer it did not see); the second call threw {Describe(error)}.");
        await AssertNotConfirmedAsync(session, "after two CancelCheckoutAsync calls");
    }

    /// <summary>Reading a payment that does not exist throws a final <see cref="ProviderException"/>.</summary>
    [Fact]
    public virtual async Task GetPayment_of_an_unknown_id_throws_a_final_ProviderException()
    {
        await ThrowsFinalAsync(
            () => Provider.GetPaymentAsync(Account, UnknownPaymentId),
            $"GetPaymentAsync of a payment that does not exist ('{UnknownPaymentId}') must throw a ProviderException that is not transient (a transient one makes Core retry forever)");
    }

    // ---- webhooks ----

    /// <summary>A webhook parses into a hint that names the payment (its id or its order) with a non-empty dedupe key.</summary>
    [Fact]
    public virtual async Task A_webhook_names_the_payment_with_a_dedupe_key()
    {
        var (request, session) = await CreateAsync();
        await PayAsync(request, session);
        if (await WebhookForAsync(session, PaymentStatus.Confirmed) is not { } webhook)
        {
            return; // No webhooks: Core polls this provider.
        }

        var hint = await Provider.ParseWebhookAsync(webhook);
        AssertNamesPayment(hint, request, session);
    }

    /// <summary>The same delivery parsed twice gives the same dedupe key (Core drops the repeat).</summary>
    [Fact]
    public virtual async Task The_same_webhook_delivered_twice_has_the_same_dedupe_key()
    {
        var (request, session) = await CreateAsync();
        await PayAsync(request, session);
        if (await WebhookForAsync(session, PaymentStatus.Confirmed) is not { } webhook)
        {
            return; // No webhooks.
        }

        var first = await Provider.ParseWebhookAsync(webhook);
        var second = await Provider.ParseWebhookAsync(webhook with { Body = webhook.Body.ToArray() });
        AssertNamesPayment(first, request, session);
        AssertNamesPayment(second, request, session);
        Assert.True(first!.DedupeKey == second!.DedupeKey, $"The same webhook delivered twice must give the same DedupeKey (Core queues each key once); got '{first.DedupeKey}' and '{second.DedupeKey}'.");
    }

    /// <summary>Webhooks reporting different statuses of one payment have different dedupe keys (Core must not drop the second).</summary>
    [Fact]
    public virtual async Task A_webhook_for_another_status_has_another_dedupe_key()
    {
        var (request, session) = await CreateAsync();
        await PayAsync(request, session);
        if (await WebhookForAsync(session, PaymentStatus.Pending) is not { } pending
            || await WebhookForAsync(session, PaymentStatus.Confirmed) is not { } confirmed)
        {
            return; // No webhooks.
        }

        var first = await Provider.ParseWebhookAsync(pending);
        var second = await Provider.ParseWebhookAsync(confirmed);
        AssertNamesPayment(first, request, session);
        AssertNamesPayment(second, request, session);
        Assert.True(
            first!.DedupeKey != second!.DedupeKey,
            $"A webhook reporting Confirmed after one reporting Pending must have another DedupeKey, or Core drops it as a repeat and misses the payment; both were '{first.DedupeKey}'.");
    }

    /// <summary>An empty, garbage or unrelated body gives null or a final <see cref="ProviderException"/>, never another exception.</summary>
    [Fact]
    public virtual async Task Empty_garbage_or_unrelated_webhooks_give_null_or_a_final_ProviderException()
    {
        var (_, session) = await CreateAsync();

        // The real body only lends its content type: take the first status the provider sends a webhook for (some
        // providers notify only when paid).
        PaymentWebhookRequest? real = null;
        foreach (var status in new[] { PaymentStatus.Pending, PaymentStatus.Confirmed, PaymentStatus.Failed, PaymentStatus.Cancelled })
        {
            real ??= await WebhookForAsync(session, status);
        }

        if (real is null)
        {
            return; // No webhooks.
        }

        var bodies = new (string What, string? ContentType, byte[] Body)[]
        {
            ("an empty body", real.ContentType, []),
            ("an empty body without content type", null, []),
            ("binary garbage", real.ContentType, [0x00, 0xFF, 0xFE, 0x7B, 0x22, 0xC3, 0x28, 0x0A]),
            ("truncated JSON", "application/json", "{\"transaction\":{\"id\":"u8.ToArray()),
            ("a JSON null", "application/json", "null"u8.ToArray()),
            ("a JSON array", "application/json", "[1,2,3]"u8.ToArray()),
            ("a JSON string", "application/json", "\"paid\""u8.ToArray()),
            ("an unrelated JSON object", "application/json", "{\"hello\":\"world\",\"status\":\"confirmed\"}"u8.ToArray()),
            ("an unrelated form", "application/x-www-form-urlencoded", "hello=world&status=confirmed&a[b][=c"u8.ToArray()),
            ("deeply nested JSON", "application/json", System.Text.Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000))),
            ("the real body with another content type", "text/plain", real.Body.ToArray()[..Math.Max(0, real.Body.Length / 2)]),
        };
        foreach (var (what, contentType, body) in bodies)
        {
            var request = new PaymentWebhookRequest(contentType, body, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));
            try
            {
                var hint = await Provider.ParseWebhookAsync(request);
                if (hint is not null && what != "the real body with another content type")
                {
                    Assert.Fail($"ParseWebhookAsync of {what} must return null (it names no payment); it returned a hint for '{hint.ProviderPaymentId ?? hint.OrderId?.ToString()}'.");
                }
            }
            catch (ProviderException ex) when (!ex.IsTransient)
            {
                // A final refusal is acceptable: the receiver answers and Core ignores the body.
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"ParseWebhookAsync of {what} must return null or throw a final ProviderException (anyone can post to the webhook URL); it threw {Describe(ex)}.");
            }
        }
    }

    /// <summary>
    /// A forged webhook claiming an unpaid checkout was paid does not change what <see cref="IPaymentProvider.GetPaymentAsync"/>
    /// reports: the hint is never trusted, the provider's own record is the source of truth.
    /// </summary>
    [Fact]
    public virtual async Task A_forged_paid_webhook_does_not_make_an_unpaid_checkout_confirmed()
    {
        var (request, session) = await CreateAsync();
        if (await WebhookForAsync(session, PaymentStatus.Confirmed) is not { } forged)
        {
            return; // No webhooks.
        }

        try
        {
            await Provider.ParseWebhookAsync(forged);
        }
        catch (ProviderException ex) when (!ex.IsTransient)
        {
            // Refusing the forgery outright is fine too.
        }

        var report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);
        Assert.True(
            report.Status is PaymentStatus.Pending or PaymentStatus.Unknown,
            $"Webhooks are hints, never the truth: after a forged 'paid' webhook for an unpaid checkout, GetPaymentAsync must still report Pending; it reported {report.Status} ('{report.RawStatus}').");
        AssertSamePayment(request, session, report, "an unpaid checkout after a forged webhook");
    }

    // ---- refunds ----

    /// <summary>A full refund completes (or is pending) and the payment then reads refunded (or refund pending).</summary>
    [Fact]
    public virtual async Task A_full_refund_leaves_the_payment_refunded()
    {
        var paid = await CreatePaidAsync();
        var outcome = await RefundAsync(paid, paid.Amount);
        await AssertRefundedAsync(paid, outcome, partially: false, "after a full refund");
    }

    /// <summary>A partial refund leaves the payment partially refunded (when <see cref="SupportsPartialRefunds"/>).</summary>
    [Fact]
    public virtual async Task A_partial_refund_leaves_the_payment_partially_refunded()
    {
        if (!SupportsPartialRefunds)
        {
            return; // Declared: only full refunds.
        }

        var paid = await CreatePaidAsync();
        var outcome = await RefundAsync(paid, paid.Amount / 5);
        await AssertRefundedAsync(paid, outcome, partially: true, "after refunding a fifth");
    }

    /// <summary>Two partial refunds that add up to the total leave the payment refunded.</summary>
    [Fact]
    public virtual async Task Two_partial_refunds_adding_up_to_the_total_leave_it_refunded()
    {
        if (!SupportsPartialRefunds)
        {
            return; // Declared: only full refunds.
        }

        var paid = await CreatePaidAsync();
        var first = paid.Amount * 2 / 5;
        await RefundAsync(paid, first);
        var outcome = await RefundAsync(paid, paid.Amount - first);
        await AssertRefundedAsync(paid, outcome, partially: false, "after two partial refunds adding up to the total");
    }

    /// <summary>
    /// The same refund id sent twice (a dispatcher that crashed before recording the answer) refunds once: the second
    /// call answers with an outcome, the rest can still be refunded, and nothing beyond the total.
    /// </summary>
    [Fact]
    public virtual async Task The_same_refund_id_twice_refunds_once()
    {
        var paid = await CreatePaidAsync();
        var part = SupportsPartialRefunds ? paid.Amount * 2 / 5 : paid.Amount;
        var refundId = Guid.NewGuid();

        // Core sends the repeat with AlreadyRefunded counting the other refunds only: this one was never recorded.
        await RefundAsync(paid, part, refundId, record: false);
        var repeat = await Record.ExceptionAsync(async () => await RefundAsync(paid, part, refundId));
        Assert.True(repeat is null, $"RefundAsync must be idempotent per RefundId: repeating refund {refundId} must answer with an outcome; it threw {Describe(repeat)}.");

        if (part < paid.Amount)
        {
            var rest = await Record.ExceptionAsync(async () => await RefundAsync(paid, paid.Amount - part));
            Assert.True(rest is null, $"RefundAsync must be idempotent per RefundId: after refund {refundId} was repeated, refunding the rest ({paid.Amount - part}) must still succeed; it threw {Describe(rest)} — the repeat refunded again.");
        }

        await ThrowsFinalAsync(
            () => RefundAsync(paid, 1),
            "RefundAsync must be idempotent per RefundId: once the whole payment is refunded, one more minor unit must be refused with a final ProviderException; it was refunded, so a repeated refund id was paid out twice");
        await AssertRefundedAsync(paid, null, partially: false, "after the repeated refund and the rest");
    }

    /// <summary>
    /// A refund whose answer was lost is repeated with <see cref="RefundRequest.AlreadyRefunded"/> counting only the
    /// refunds Core recorded: the provider sees it already refunded that much and must not send it again.
    /// </summary>
    [Fact]
    public virtual async Task A_refund_whose_answer_was_lost_is_not_sent_again()
    {
        var paid = await CreatePaidAsync();
        if (!SupportsPartialRefunds)
        {
            var lost = Guid.NewGuid();
            await RefundAsync(paid, paid.Amount, lost, record: false);
            var again = await Record.ExceptionAsync(async () => await RefundAsync(paid, paid.Amount, lost));
            Assert.True(again is null, $"A refund whose answer was lost, repeated with AlreadyRefunded = 0, must answer with an outcome and not refund again; it threw {Describe(again)}.");
            await ThrowsFinalAsync(() => RefundAsync(paid, paid.Amount), "After a full refund (answer lost, then repeated), another full refund must be refused with a final ProviderException");
            return;
        }

        var first = paid.Amount / 5;
        var second = paid.Amount * 3 / 10;
        await RefundAsync(paid, first);
        var lostId = Guid.NewGuid();
        await RefundAsync(paid, second, lostId, record: false);
        var repeat = await Record.ExceptionAsync(async () => await RefundAsync(paid, second, lostId));
        Assert.True(repeat is null, $"A refund whose answer was lost, repeated with AlreadyRefunded = {first} (what Core recorded), must answer with an outcome; it threw {Describe(repeat)}.");

        var rest = paid.Amount - first - second;
        var restError = await Record.ExceptionAsync(async () => await RefundAsync(paid, rest));
        Assert.True(restError is null, $"After the lost refund was repeated, refunding the rest ({rest}) must succeed; it threw {Describe(restError)} — the repeat was sent again and refunded twice.");
        await ThrowsFinalAsync(() => RefundAsync(paid, 1), "After the whole payment was refunded, one more minor unit must be refused with a final ProviderException; it was refunded, so the lost refund was sent twice");
        await AssertRefundedAsync(paid, null, partially: false, "after the lost refund was repeated and the rest refunded");
    }

    /// <summary>Refunding more than was paid throws a final <see cref="ProviderException"/> (Core marks the refund failed for an operator).</summary>
    [Fact]
    public virtual async Task A_refund_of_more_than_was_paid_throws_a_final_ProviderException()
    {
        var paid = await CreatePaidAsync();
        await ThrowsFinalAsync(() => RefundAsync(paid, paid.Amount + 1), "Refunding more than was paid must throw a ProviderException that is not transient");
        var report = await Provider.GetPaymentAsync(Account, paid.Session.ProviderPaymentId);
        Assert.True(report.Status == PaymentStatus.Confirmed, $"A refused refund must leave the payment Confirmed; GetPaymentAsync reported {report.Status}.");
    }

    /// <summary>Refunding a checkout that was never paid throws a final <see cref="ProviderException"/>.</summary>
    [Fact]
    public virtual async Task A_refund_of_an_unpaid_checkout_throws_a_final_ProviderException()
    {
        var (request, session) = await CreateAsync();
        var unpaid = new PaidCheckout(request, session, null);
        await ThrowsFinalAsync(() => RefundAsync(unpaid, request.Amount.Amount), "Refunding a checkout that was never paid must throw a ProviderException that is not transient");
        await AssertNotConfirmedAsync(session, "after a refused refund of an unpaid checkout");
    }

    // ---- cancellation ----

    /// <summary>VerifyAccountAsync with a cancelled token throws <see cref="OperationCanceledException"/>.</summary>
    [Fact]
    public virtual async Task VerifyAccount_honours_a_cancelled_token()
    {
        await CancelledAsync(ct => Provider.VerifyAccountAsync(Account, ct), "VerifyAccountAsync");
    }

    /// <summary>CreateCheckoutAsync with a cancelled token throws and creates nothing.</summary>
    [Fact]
    public virtual async Task CreateCheckout_honours_a_cancelled_token()
    {
        var request = NewCheckoutRequest();
        await CancelledAsync(ct => Provider.CreateCheckoutAsync(request, ct), "CreateCheckoutAsync");
        if (await CountCheckoutsAsync(request.OrderId) is { } count)
        {
            Assert.True(count == 0, $"CreateCheckoutAsync with a cancelled token must create nothing; {count} checkout(s) exist for order {request.OrderId}.");
        }
    }

    /// <summary>GetPaymentAsync with a cancelled token throws <see cref="OperationCanceledException"/>.</summary>
    [Fact]
    public virtual async Task GetPayment_honours_a_cancelled_token()
    {
        var (_, session) = await CreateAsync();
        await CancelledAsync(ct => Provider.GetPaymentAsync(Account, session.ProviderPaymentId, ct), "GetPaymentAsync");
    }

    /// <summary>CancelCheckoutAsync with a cancelled token throws and leaves the checkout payable.</summary>
    [Fact]
    public virtual async Task CancelCheckout_honours_a_cancelled_token()
    {
        var (request, session) = await CreateAsync();
        await CancelledAsync(ct => Provider.CancelCheckoutAsync(Account, session.ProviderPaymentId, ct), "CancelCheckoutAsync");
        var report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);
        Assert.True(report.Status is PaymentStatus.Pending or PaymentStatus.Unknown, $"CancelCheckoutAsync with a cancelled token must have no effect; the checkout then read {report.Status}.");
        await PayAsync(request, session);
        report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);
        Assert.True(report.Status == PaymentStatus.Confirmed, $"CancelCheckoutAsync with a cancelled token must have no effect: the checkout must still take a payment; it read {report.Status} after paying.");
    }

    /// <summary>RefundAsync with a cancelled token throws and refunds nothing.</summary>
    [Fact]
    public virtual async Task Refund_honours_a_cancelled_token()
    {
        var paid = await CreatePaidAsync();
        await CancelledAsync(ct => RefundAsync(paid, paid.Amount, cancellationToken: ct), "RefundAsync");
        var report = await Provider.GetPaymentAsync(Account, paid.Session.ProviderPaymentId);
        Assert.True(report.Status == PaymentStatus.Confirmed, $"RefundAsync with a cancelled token must refund nothing; the payment then read {report.Status}.");
        var outcome = await RefundAsync(paid, paid.Amount);
        await AssertRefundedAsync(paid, outcome, partially: false, "after a cancelled refund and a real one");
    }

    /// <summary>ParseWebhookAsync with a cancelled token throws <see cref="OperationCanceledException"/>.</summary>
    [Fact]
    public virtual async Task ParseWebhook_honours_a_cancelled_token()
    {
        var (request, session) = await CreateAsync();
        await PayAsync(request, session);
        if (await WebhookForAsync(session, PaymentStatus.Confirmed) is not { } webhook)
        {
            return; // No webhooks.
        }

        await CancelledAsync(ct => Provider.ParseWebhookAsync(webhook, ct), "ParseWebhookAsync");
    }

    // ---- configuration ----

    /// <summary>
    /// Each registration in <see cref="BadConfigurations"/> is refused when the host starts (options validation) or
    /// when the provider is resolved, with an exception that names the setting.
    /// </summary>
    [Fact]
    public virtual async Task Bad_configuration_is_refused_at_start_up_naming_the_setting()
    {
        if (ValidConfiguration is { } valid)
        {
            IReadOnlyList<string> names = [];
            var error = Record.Exception(() => names = Start(valid));
            Assert.True(error is null, $"The valid configuration must start; it threw {Describe(error)}.");
            Assert.True(names.Contains(Provider.Name), $"The valid configuration must register an IPaymentProvider named '{Provider.Name}'; it registered [{string.Join(", ", names)}].");
        }

        foreach (var (name, configure) in BadConfigurations)
        {
            await BadConfiguration.AssertRefusedAsync(name, configure, Configuration, provider => _ = provider.GetServices<IPaymentProvider>().ToList(), "the payment providers");
        }
    }

    // ---- helpers for subclasses ----

    /// <summary>A checkout the customer paid, with what <see cref="IPaymentProvider.GetPaymentAsync"/> reported afterwards.</summary>
    /// <param name="Request">The checkout request.</param>
    /// <param name="Session">The created checkout.</param>
    /// <param name="Report">The report after payment (null for an unpaid checkout).</param>
    protected sealed record PaidCheckout(CheckoutRequest Request, CheckoutSession Session, PaymentStatusReport? Report)
    {
        /// <summary>The amount paid, minor units.</summary>
        public long Amount => Request.Amount.Amount;
    }

    /// <summary>Creates a checkout for a new order.</summary>
    protected async Task<(CheckoutRequest Request, CheckoutSession Session)> CreateAsync()
    {
        var request = NewCheckoutRequest();
        return (request, await Provider.CreateCheckoutAsync(request));
    }

    /// <summary>Creates a checkout, pays it and checks it reads confirmed.</summary>
    protected async Task<PaidCheckout> CreatePaidAsync()
    {
        var (request, session) = await CreateAsync();
        await PayAsync(request, session);
        var report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);
        Assert.True(report.Status == PaymentStatus.Confirmed, $"A paid checkout must read back as Confirmed before it can be refunded; GetPaymentAsync reported {report.Status} ('{report.RawStatus}').");
        return new PaidCheckout(request, session, report);
    }

    /// <summary>
    /// Refunds as Core does: the transaction id from the report, full when the amount is the whole payment, and
    /// <see cref="RefundRequest.AlreadyRefunded"/> summing the other refunds recorded for the payment. With
    /// <paramref name="record"/> false the outcome is not recorded, as when Core lost the answer.
    /// </summary>
    protected async Task<RefundOutcome> RefundAsync(PaidCheckout paid, long amount, Guid? refundId = null, bool record = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paid);
        var id = refundId ?? Guid.NewGuid();
        var recorded = _recordedRefunds.TryGetValue(paid.Session.ProviderPaymentId, out var known) ? known : [];
        var already = recorded.Where(r => r.Key != id).Sum(r => r.Value);
        var currency = paid.Request.Amount.Currency;
        var outcome = await Provider.RefundAsync(
            new RefundRequest(id, Account, paid.Session.ProviderPaymentId, paid.Report?.TransactionId, new Money(amount, currency), amount == paid.Amount, new Money(already, currency)),
            cancellationToken);
        Assert.True(
            outcome is { Status: RefundStatus.Completed or RefundStatus.Pending },
            $"RefundAsync must answer Completed or Pending (a refusal is a ProviderException); it answered {outcome?.Status.ToString() ?? "null"}.");
        if (record)
        {
            recorded[id] = amount;
            _recordedRefunds[paid.Session.ProviderPaymentId] = recorded;
        }

        return outcome!;
    }

    /// <summary>Asserts that <paramref name="action"/> throws a <see cref="ProviderException"/> that is not transient.</summary>
    protected static async Task<ProviderException> ThrowsFinalAsync(Func<Task> action, string contract)
    {
        ArgumentNullException.ThrowIfNull(action);
        var error = await Record.ExceptionAsync(action);
        if (error is ProviderException { IsTransient: false } final)
        {
            return final;
        }

        Assert.Fail(error switch
        {
            null => $"{contract}; it succeeded.",
            ProviderException => $"{contract}; it threw a transient ProviderException (Core would retry it forever): {error.Message}",
            _ => $"{contract}; it threw {Describe(error)}.",
        });
        return null!;
    }

    private async Task AssertRefundedAsync(PaidCheckout paid, RefundOutcome? outcome, bool partially, string when)
    {
        var report = await Provider.GetPaymentAsync(Account, paid.Session.ProviderPaymentId);
        var expected = partially ? PaymentStatus.PartiallyRefunded : PaymentStatus.Refunded;
        var acceptable = outcome?.Status == RefundStatus.Pending || report.Status == PaymentStatus.RefundPending
            ? report.Status == expected || report.Status == PaymentStatus.RefundPending
            : report.Status == expected;
        Assert.True(
            acceptable,
            $"{when}, GetPaymentAsync must report {expected} (or RefundPending while the provider is still refunding): Core completes pending refunds when it reads them; it reported {report.Status} ('{report.RawStatus}').");
        Assert.True(report.Amount == paid.Amount && string.Equals(report.Currency, paid.Request.Amount.Currency, StringComparison.OrdinalIgnoreCase), $"{when}, the payment must still report what was paid ({paid.Request.Amount.Amount} {paid.Request.Amount.Currency}); it reported {report.Amount} {report.Currency}.");
    }

    private async Task AssertNotConfirmedAsync(CheckoutSession session, string when)
    {
        try
        {
            var report = await Provider.GetPaymentAsync(Account, session.ProviderPaymentId);
            Assert.True(report.Status != PaymentStatus.Confirmed, $"An unpaid checkout must never read Confirmed {when}; GetPaymentAsync reported Confirmed ('{report.RawStatus}').");
        }
        catch (ProviderException ex) when (!ex.IsTransient)
        {
            // The checkout is gone: not confirmed, which is all Core needs.
        }
    }

    private void AssertSamePayment(CheckoutRequest request, CheckoutSession session, PaymentStatusReport report, string what)
    {
        Assert.True(
            report.ProviderPaymentId == session.ProviderPaymentId,
            $"GetPaymentAsync of {what} must report the payment id Core asked for ('{session.ProviderPaymentId}'): Core rejects a report with another id; it reported '{report.ProviderPaymentId}'.");
        Assert.True(
            report.Amount == request.Amount.Amount && string.Equals(report.Currency, request.Amount.Currency, StringComparison.OrdinalIgnoreCase),
            $"GetPaymentAsync of {what} must report the requested amount and currency ({request.Amount.Amount} {request.Amount.Currency}): Core rejects a confirmation that differs; it reported {report.Amount} '{report.Currency}'.");
        if (ReportsOrderId || report.OrderId is not null)
        {
            Assert.True(
                report.OrderId == request.OrderId,
                $"GetPaymentAsync of {what} must report the order id sent at checkout ({request.OrderId}): Core rejects a report naming another order; it reported {report.OrderId?.ToString() ?? "none"}.");
        }
    }

    private static void AssertNamesPayment(PaymentWebhookHint? hint, CheckoutRequest request, CheckoutSession session)
    {
        Assert.True(hint is not null, "ParseWebhookAsync of the provider's own webhook must return a hint naming the payment; it returned null, so Core would ignore every webhook.");
        Assert.True(hint!.ProviderPaymentId is not null || hint.OrderId is not null, "A webhook hint must name the payment by ProviderPaymentId or OrderId; Core ignores a hint that names neither.");
        Assert.True(hint.ProviderPaymentId is null || hint.ProviderPaymentId == session.ProviderPaymentId, $"The hint must name this checkout ('{session.ProviderPaymentId}'); it named '{hint.ProviderPaymentId}'.");
        Assert.True(hint.OrderId is null || hint.OrderId == request.OrderId, $"The hint must name this order ({request.OrderId}); it named {hint.OrderId}.");
        Assert.False(string.IsNullOrWhiteSpace(hint.DedupeKey), "A webhook hint must carry a non-empty DedupeKey: Core queues each delivery once under it.");
    }

    private static async Task CancelledAsync(Func<CancellationToken, Task> action, string method)
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Exception? error;
        try
        {
            await action(cancelled.Token);
            error = null;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            error = ex;
        }

        Assert.Fail(error is null
            ? $"{method} with an already-cancelled token must throw OperationCanceledException (Core cancels work on shutdown and on aborted requests); it completed."
            : $"{method} with an already-cancelled token must throw OperationCanceledException; it threw {Describe(error)}.");
    }

    private IReadOnlyList<string> Start(Action<IOpenMavnBuilder> configure)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Configuration).Build();
        var services = new ServiceCollection();
        configure(services.AddOpenMavn(configuration));
        using var provider = services.BuildServiceProvider();

        // What the host does at start-up: every ValidateOnStart options class, then the providers themselves.
        provider.GetService<IStartupValidator>()?.Validate();
        return [.. provider.GetServices<IPaymentProvider>().Select(p => p.Name)];
    }

    private static string Describe(Exception? error) => error is null ? "nothing" : $"{error.GetType().Name}: {error.Message}";
}
