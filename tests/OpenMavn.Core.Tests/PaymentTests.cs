using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.BuyingAndPayingKit;

namespace OpenMavn.Core.Tests;

public sealed class PaymentTests
{
    [Fact]
    public async Task Confirming_a_payment_twice_issues_the_vouchers_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);

        var first = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
        var second = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
        var refreshed = await host.RefreshAsync(order.Id);
        var refreshedAgain = await host.RefreshAsync(order.Id);

        Assert.Equal(PaymentApplication.VouchersIssued, first);
        Assert.Equal(PaymentApplication.NoChange, second);
        Assert.Equal(PaymentApplication.NoChange, refreshed);
        Assert.Equal(PaymentApplication.NoChange, refreshedAgain);
        await AssertIssuedExactlyOnceAsync(host, order, customer);
    }

    [Fact]
    public async Task Ten_concurrent_confirmations_issue_the_vouchers_exactly_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);

        var attempts = await RunTogetherAsync(10, async i =>
        {
            var confirmed = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
            if (i % 2 == 0)
            {
                return confirmed;
            }

            var refreshed = await host.RefreshAsync(order.Id);
            return confirmed == PaymentApplication.VouchersIssued ? confirmed : refreshed;
        });

        Assert.All(attempts, a => Assert.True(a.Succeeded, a.Error?.ToString()));
        Assert.Single(attempts, a => a.Value == PaymentApplication.VouchersIssued);
        Assert.All(attempts, a => Assert.Contains(a.Value, new[] { PaymentApplication.VouchersIssued, PaymentApplication.NoChange }));
        await AssertIssuedExactlyOnceAsync(host, order, customer);
    }

    [Fact]
    public async Task Ten_concurrent_refreshes_of_a_paid_checkout_issue_the_vouchers_exactly_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);
        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);

        var attempts = await RunTogetherAsync(10, _ => host.RefreshAsync(order.Id));

        Assert.All(attempts, a => Assert.True(a.Succeeded, a.Error?.ToString()));
        Assert.Single(attempts, a => a.Value == PaymentApplication.VouchersIssued);
        await AssertIssuedExactlyOnceAsync(host, order, customer);
    }

    [Fact]
    public async Task A_paid_order_books_one_balanced_sale_and_its_fees()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.Fees.PlatformBasisPoints = 200;
            o.Fees.PaymentFixed = 30;
        });
        var (_, merchantId, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 5000, price: 4500));
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);

        await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
        await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);

        var sale = Assert.Single(await host.JournalAsync(JournalEntryKind.Sale, order.Id));
        Assert.Equal(merchantId, sale.MerchantId);
        Assert.Equal(sale.Lines.Sum(l => l.Debit), sale.Lines.Sum(l => l.Credit));
        Assert.Equal(9000, sale.Lines.Single(l => l.Account == LedgerAccount.PaymentProviderFunds).Debit);
        Assert.Equal(1000, sale.Lines.Single(l => l.Account == LedgerAccount.SalesDiscount).Debit);
        Assert.Equal(10_000, sale.Lines.Single(l => l.Account == LedgerAccount.VoucherLiability).Credit);
        var fee = Assert.Single(await host.JournalAsync(JournalEntryKind.Fee, order.Id));
        Assert.Equal(180 + 30, fee.Lines.Single(l => l.Account == LedgerAccount.Fees).Debit);
        Assert.Equal(180, fee.Lines.Single(l => l.Account == LedgerAccount.FeesPayable).Credit);
        Assert.Equal(30, fee.Lines.Single(l => l.Account == LedgerAccount.PaymentProviderFunds).Credit);
    }

    [Fact]
    public async Task A_failed_payment_fails_the_order_and_returns_the_stock_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 3));
        var customer = await host.CreateCustomerAsync();
        var other = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);
        await host.OrderAsync(other, campaign.Id, 1);
        Assert.Equal(3, (await host.CampaignAsync(campaign.Id)).Reserved);

        var failed = await host.Sandbox.FailAsync(order.ProviderPaymentId!);
        var again = await host.Sandbox.FailAsync(order.ProviderPaymentId!);
        var refreshed = await host.RefreshAsync(order.Id);
        host.Time.Advance(TimeSpan.FromMinutes(16));
        await host.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync();

        Assert.Equal(PaymentApplication.OrderFailed, failed);
        Assert.Equal(PaymentApplication.NoChange, again);
        Assert.Equal(PaymentApplication.NoChange, refreshed);
        var stored = await host.OrderRowAsync(order.Id);
        Assert.Equal(OrderStatus.Failed, stored.Status);
        Assert.False(stored.HoldsStock);
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(PaymentStatus.Failed, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).Status);
        Assert.Empty(await host.JournalAsync(JournalEntryKind.Sale, order.Id));
    }

    [Fact]
    public async Task Stock_returned_by_a_failed_payment_can_be_bought_by_someone_else()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 1));
        var alice = await host.CreateCustomerAsync();
        var bob = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(alice, campaign.Id, 1);
        var soldOut = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(bob, campaign.Id, 1));
        Assert.Equal("campaign.sold_out", soldOut.Code);

        await host.Sandbox.FailAsync(order.ProviderPaymentId!);
        var (bobs, vouchers) = await host.BuyAsync(bob, campaign.Id, 1);

        Assert.Equal(OrderStatus.Paid, bobs.Status);
        Assert.Single(vouchers);
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task An_expired_reservation_returns_its_stock_and_cancels_the_checkout()
    {
        await using var host = await TestHost.StartAsync(o => o.ReservationTimeout = TimeSpan.FromMinutes(10));
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);

        host.Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await host.ExpireReservationsAsync());
        Assert.Equal(OrderStatus.PendingPayment, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        var round = await host.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync();

        Assert.Equal(1, round.ReservationsExpired);
        var stored = await host.OrderRowAsync(order.Id);
        Assert.Equal(OrderStatus.Expired, stored.Status);
        Assert.False(stored.HoldsStock);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
        var cancel = Assert.Single(await host.OutboxAsync(OutboxTypes.PaymentCancelCheckout));
        Assert.Null(cancel.ProcessedAt);
        Assert.Contains(order.ProviderPaymentId!, cancel.Payload, StringComparison.Ordinal);
        Assert.Equal(PaymentStatus.Pending, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).Status);

        await host.Outbox.DrainAsync();

        Assert.Equal(PaymentStatus.Cancelled, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).Status);
        Assert.NotNull(Assert.Single(await host.OutboxAsync(OutboxTypes.PaymentCancelCheckout)).ProcessedAt);
        Assert.Empty(await host.FailedMessagesAsync());
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
        Assert.Equal(OrderStatus.Expired, (await host.OrderRowAsync(order.Id)).Status);
    }

    [Fact]
    public async Task Expiring_reservations_twice_or_concurrently_returns_the_stock_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 10));
        var orders = new List<Order>();
        for (var i = 0; i < 3; i++)
        {
            orders.Add(await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, i + 1));
        }

        var paid = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 2);
        await host.Sandbox.ConfirmAsync(paid.ProviderPaymentId!);
        Assert.Equal(8, (await host.CampaignAsync(campaign.Id)).Reserved);
        host.Time.Advance(TimeSpan.FromMinutes(15));

        var jobs = host.Services.GetRequiredService<OpenMavnJobs>();
        var attempts = await RunTogetherAsync(10, async i => i % 2 == 0
            ? await host.ExpireReservationsAsync()
            : (await jobs.RunOnceAsync()).ReservationsExpired);
        var afterwards = await host.ExpireReservationsAsync();

        Assert.All(attempts, a => Assert.True(a.Succeeded, a.Error?.ToString()));
        Assert.Equal(3, attempts.Sum(a => a.Value));
        Assert.Equal(0, afterwards);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
        foreach (var o in orders)
        {
            Assert.Equal(OrderStatus.Expired, (await host.OrderRowAsync(o.Id)).Status);
        }

        Assert.Equal(OrderStatus.Paid, (await host.OrderRowAsync(paid.Id)).Status);
        Assert.Equal(3, (await host.OutboxAsync(OutboxTypes.PaymentCancelCheckout)).Count);
    }

    [Fact]
    public async Task A_payment_confirmed_after_its_reservation_expired_issues_vouchers_when_stock_is_left()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 5));
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);
        host.Time.Advance(TimeSpan.FromMinutes(20));
        await host.ExpireReservationsAsync();
        await host.Outbox.DrainAsync();
        Assert.Equal(PaymentStatus.Cancelled, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).Status);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);

        // The customer had the payment page open and paid anyway.
        var outcome = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);

        Assert.Equal(PaymentApplication.VouchersIssued, outcome);
        var stored = await host.OrderRowAsync(order.Id);
        Assert.Equal(OrderStatus.Paid, stored.Status);
        Assert.True(stored.HoldsStock);
        Assert.Equal(2, (await host.VouchersOfOrderAsync(order.Id)).Count);
        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(2, after.Reserved);
        Assert.Equal(2, after.Issued);
        Assert.Empty(await host.RefundsOfOrderAsync(order.Id));
        Assert.Equal(PaymentApplication.NoChange, await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!));
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task A_payment_confirmed_after_its_reservation_expired_with_no_stock_left_is_refunded()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 2));
        var late = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(late, campaign.Id, 1);
        host.Time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(1, await host.ExpireReservationsAsync());
        await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 2);

        var outcome = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
        var again = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);

        Assert.Equal(PaymentApplication.RefundQueued, outcome);
        Assert.Equal(PaymentApplication.NoChange, again);
        var pending = await host.OrderRowAsync(order.Id);
        Assert.Equal(OrderStatus.RefundPending, pending.Status);
        Assert.False(pending.HoldsStock);
        var refund = Assert.Single(await host.RefundsOfOrderAsync(order.Id));
        Assert.Equal(RefundStatus.Requested, refund.Status);
        Assert.Equal(order.Amount, refund.Amount);
        Assert.Null(refund.VoucherId);
        Assert.Single(await host.OutboxAsync(OutboxTypes.PaymentRefund));
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);

        await host.Outbox.DrainAsync();

        var payment = await host.SandboxPaymentAsync(order.ProviderPaymentId!);
        Assert.Equal(PaymentStatus.Refunded, payment.Status);
        Assert.Equal(order.Amount, payment.RefundedAmount);
        Assert.Equal(1, await host.QueryAsync(db => db.SandboxRefunds.CountAsync(r => r.PaymentId == payment.Id)));
        Assert.Equal(OrderStatus.Refunded, (await host.OrderRowAsync(order.Id)).Status);
        var done = Assert.Single(await host.RefundsOfOrderAsync(order.Id));
        Assert.Equal(RefundStatus.Completed, done.Status);
        Assert.NotNull(done.ProviderReference);
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(2, after.Reserved);
        Assert.Equal(2, after.Issued);
        Assert.Equal(2, await host.VoucherCountAsync(campaign.Id));
        Assert.Empty(await host.JournalAsync(JournalEntryKind.Sale, order.Id));
        Assert.Single(host.Sent.OfType(NotificationTypes.RefundCompleted), m => m.Recipient.UserId == late.Id);
        Assert.Empty(await host.FailedMessagesAsync());

        // Later reports change nothing.
        Assert.Equal(PaymentApplication.NoChange, await host.RefreshAsync(order.Id));
        host.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, await host.PollPaymentsAsync());
        Assert.Equal(OrderStatus.Refunded, (await host.OrderRowAsync(order.Id)).Status);
    }

    [Fact]
    public async Task A_payment_that_failed_and_then_succeeded_at_the_gateway_issues_when_stock_is_left()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 5));
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);
        await host.Sandbox.FailAsync(order.ProviderPaymentId!);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);

        // The shopper retried on the same gateway page and the second card went through.
        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);
        var outcome = await host.RefreshAsync(order.Id);

        Assert.Equal(PaymentApplication.VouchersIssued, outcome);
        await AssertIssuedExactlyOnceAsync(host, order, customer);
    }

    [Fact]
    public async Task A_late_payment_for_a_campaign_cancelled_meanwhile_is_refunded()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 1);
        host.Time.Advance(TimeSpan.FromMinutes(16));
        await host.ExpireReservationsAsync();
        await host.RunAsync<CampaignService>(s => s.CancelAsync(owner, campaign.Id));

        var outcome = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
        await host.Outbox.DrainAsync();

        Assert.Equal(PaymentApplication.RefundQueued, outcome);
        Assert.Equal(OrderStatus.Refunded, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Equal(PaymentStatus.Refunded, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).Status);
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(CampaignState.Cancelled, after.State);
        Assert.Equal(0, after.Reserved);
        Assert.Equal(0, after.Issued);
    }

    [Fact]
    public async Task Failures_racing_the_expiry_job_return_the_stock_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 20));
        var orders = new List<Order>();
        for (var i = 0; i < 5; i++)
        {
            orders.Add(await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 3));
        }

        var kept = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 4);
        await host.Sandbox.ConfirmAsync(kept.ProviderPaymentId!);
        host.Time.Advance(TimeSpan.FromMinutes(15));

        var attempts = await RunTogetherAsync(10, async i =>
        {
            if (i < 5)
            {
                await host.Sandbox.FailAsync(orders[i].ProviderPaymentId!);
            }
            else
            {
                await host.ExpireReservationsAsync();
            }
        });

        Assert.All(attempts, a => Assert.True(a.Succeeded, a.Error?.ToString()));
        foreach (var o in orders)
        {
            var stored = await host.OrderRowAsync(o.Id);
            Assert.Contains(stored.Status, new[] { OrderStatus.Failed, OrderStatus.Expired });
            Assert.False(stored.HoldsStock);
        }

        Assert.Equal(4, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task A_late_payment_racing_another_buyer_for_the_last_voucher_never_oversells()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 1));
        var late = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(late, campaign.Id, 1);
        host.Time.Advance(TimeSpan.FromMinutes(16));
        await host.ExpireReservationsAsync();
        var rival = await host.CreateCustomerAsync();

        var attempts = await RunTogetherAsync(2, async i =>
        {
            if (i == 0)
            {
                await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
            }
            else
            {
                await host.BuyAsync(rival, campaign.Id, 1);
            }
        });
        await host.Outbox.DrainAsync();

        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(1, after.Reserved);
        Assert.Equal(1, after.Issued);
        Assert.Equal(1, await host.VoucherCountAsync(campaign.Id));
        var lateOrder = await host.OrderRowAsync(order.Id);
        if (lateOrder.Status == OrderStatus.Paid)
        {
            AssertConflict(attempts[1], "campaign.sold_out");
        }
        else
        {
            Assert.True(attempts[1].Succeeded, attempts[1].Error?.ToString());
            Assert.Equal(OrderStatus.Refunded, lateOrder.Status);
            Assert.Equal(PaymentStatus.Refunded, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).Status);
        }
    }

    [Fact]
    public async Task Expiry_racing_the_payment_confirmation_ends_paid_with_the_stock_held_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 10));
        var orders = new List<Order>();
        for (var i = 0; i < 5; i++)
        {
            orders.Add(await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 2));
        }

        host.Time.Advance(TimeSpan.FromMinutes(15));
        var attempts = await RunTogetherAsync(10, async i =>
        {
            if (i < 5)
            {
                await host.Sandbox.ConfirmAsync(orders[i].ProviderPaymentId!);
            }
            else
            {
                await host.ExpireReservationsAsync();
            }
        });

        Assert.All(attempts, a => Assert.True(a.Succeeded, a.Error?.ToString()));
        foreach (var o in orders)
        {
            Assert.Equal(OrderStatus.Paid, (await host.OrderRowAsync(o.Id)).Status);
        }

        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(10, after.Reserved);
        Assert.Equal(10, after.Issued);
        Assert.Equal(10, await host.VoucherCountAsync(campaign.Id));
    }

    [Fact]
    public async Task A_webhook_for_an_unpaid_checkout_issues_nothing()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 1);

        // The body claims "confirmed", but the sandbox (the authority) still says pending.
        var outcome = await host.DeliverWebhookAsync(SandboxWebhook(order.ProviderPaymentId!, "confirmed"));

        Assert.Equal(PaymentApplication.NoChange, outcome);
        Assert.Equal(OrderStatus.PendingPayment, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Theory]
    [InlineData(1L, null)]
    [InlineData(4499L, null)]
    [InlineData(4500L, "EUR")]
    public async Task A_webhook_whose_payment_amount_or_currency_was_tampered_is_rejected(long amount, string? currency)
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(price: 4500));
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 1);
        await host.QueryAsync(db => db.SandboxPayments.Where(p => p.Id == order.ProviderPaymentId)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Amount, amount).SetProperty(p => p.Currency, currency ?? "CHF").SetProperty(p => p.Status, PaymentStatus.Confirmed)));

        var outcome = await host.DeliverWebhookAsync(SandboxWebhook(order.ProviderPaymentId!));
        var polled = await host.RefreshAsync(order.Id);

        Assert.Equal(PaymentApplication.Rejected, outcome);
        Assert.Equal(PaymentApplication.Rejected, polled);
        var stored = await host.OrderRowAsync(order.Id);
        Assert.Equal(OrderStatus.PendingPayment, stored.Status);
        Assert.Null(stored.PaidAt);
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
        Assert.Empty(await host.JournalAsync(JournalEntryKind.Sale, order.Id));
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Issued);
        Assert.Contains(host.Logs.Lines, l => l.Contains("refused", StringComparison.Ordinal) && l.Contains(order.Id.ToString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json at all")]
    [InlineData("{\"paymentId\":")]
    [InlineData("{}")]
    [InlineData("{\"paymentId\":17}")]
    [InlineData("{\"paymentId\":null}")]
    [InlineData("{\"paymentId\":\"sbx_doesnotexist\"}")]
    [InlineData("{\"paymentId\":\"\"}")]
    [InlineData("[]")]
    [InlineData("[{\"paymentId\":\"sbx_doesnotexist\"}]")]
    [InlineData("42")]
    [InlineData("\"paymentId\"")]
    [InlineData("null")]
    public async Task A_garbage_webhook_names_no_order_and_throws_nothing(string body)
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var order = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 1);
        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);

        var outcome = await host.DeliverWebhookAsync(Webhook(body));

        Assert.Equal(PaymentApplication.UnknownOrder, outcome);
        Assert.Equal(OrderStatus.PendingPayment, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Empty(await host.VouchersOfOrderAsync(order.Id));
    }

    [Fact]
    public async Task A_webhook_to_an_unknown_provider_is_not_found()
    {
        await using var host = await TestHost.StartAsync();

        var error = await Assert.ThrowsAsync<NotFoundException>(() =>
            host.RunAsync<PurchaseService, PaymentApplication>(s => s.HandleWebhookAsync("payrexx", SandboxWebhook("sbx_x"))));

        Assert.Equal("payment.provider_unknown", error.Code);
    }

    [Fact]
    public async Task A_genuine_webhook_issues_the_vouchers_once_however_often_it_arrives()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);
        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);

        var first = await host.DeliverWebhookAsync(SandboxWebhook(order.ProviderPaymentId!));
        var redelivered = await RunTogetherAsync(5, _ => host.DeliverWebhookAsync(SandboxWebhook(order.ProviderPaymentId!)));

        Assert.Equal(PaymentApplication.VouchersIssued, first);
        Assert.All(redelivered, a => Assert.Equal(PaymentApplication.NoChange, a.Value));
        var stored = await host.OrderRowAsync(order.Id);
        Assert.Equal(order.ProviderPaymentId, stored.ProviderTransactionId);
        await AssertIssuedExactlyOnceAsync(host, order, customer);
    }

    [Fact]
    public async Task Parallel_genuine_webhooks_issue_the_vouchers_exactly_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);
        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);

        var attempts = await RunTogetherAsync(10, _ => host.DeliverWebhookAsync(SandboxWebhook(order.ProviderPaymentId!)));

        Assert.All(attempts, a => Assert.True(a.Succeeded, a.Error?.ToString()));
        Assert.Single(attempts, a => a.Value == PaymentApplication.VouchersIssued);
        await AssertIssuedExactlyOnceAsync(host, order, customer);
    }

    [Fact]
    public async Task A_webhook_naming_another_merchants_payment_only_ever_touches_that_payments_order()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var (_, _, otherCampaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var unpaid = await host.OrderAsync(customer, campaign.Id, 1);
        var paid = await host.OrderAsync(customer, otherCampaign.Id, 1);
        await host.MarkSandboxPaidSilentlyAsync(paid.ProviderPaymentId!);

        var outcome = await host.DeliverWebhookAsync(SandboxWebhook(paid.ProviderPaymentId!));

        Assert.Equal(PaymentApplication.VouchersIssued, outcome);
        Assert.Equal(OrderStatus.PendingPayment, (await host.OrderRowAsync(unpaid.Id)).Status);
        Assert.Empty(await host.VouchersOfOrderAsync(unpaid.Id));
        Assert.Single(await host.VouchersOfOrderAsync(paid.Id));
    }

    [Fact]
    public async Task Polling_resolves_a_paid_order_whose_webhook_never_came()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2);
        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);

        host.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await host.PollPaymentsAsync());
        Assert.Equal(OrderStatus.PendingPayment, (await host.OrderRowAsync(order.Id)).Status);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        var resolved = await host.PollPaymentsAsync();
        var again = await host.PollPaymentsAsync();
        host.Time.Advance(TimeSpan.FromMinutes(6));
        var round = await host.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync();

        Assert.Equal(1, resolved);
        Assert.Equal(0, again);
        Assert.Equal(0, round.PaymentsResolved);
        Assert.Equal(0, round.ReservationsExpired);
        var stored = await host.OrderRowAsync(order.Id);
        Assert.Equal(OrderStatus.Paid, stored.Status);
        Assert.NotNull(stored.LastStatusCheckAt);
        await AssertIssuedExactlyOnceAsync(host, order, customer);
    }

    [Fact]
    public async Task Polling_with_the_configured_delay_leaves_an_unpaid_order_pending_and_checks_it_again_later()
    {
        await using var host = await TestHost.StartAsync(o => o.Jobs.PaymentPollDelay = TimeSpan.FromMinutes(2));
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 1);

        host.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, await host.PollPaymentsAsync());
        var checkedAt = (await host.OrderRowAsync(order.Id)).LastStatusCheckAt;
        Assert.Equal(host.Time.GetUtcNow(), checkedAt);

        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await host.PollPaymentsAsync());
        Assert.Equal(OrderStatus.PendingPayment, (await host.OrderRowAsync(order.Id)).Status);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await host.PollPaymentsAsync());

        Assert.Equal(OrderStatus.Paid, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Single(await host.VouchersOfOrderAsync(order.Id));
    }

    [Fact]
    public async Task Polling_finds_a_payment_made_after_the_reservation_lapsed()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 1);
        host.Time.Advance(TimeSpan.FromMinutes(16));
        await host.ExpireReservationsAsync();
        await host.MarkSandboxPaidSilentlyAsync(order.ProviderPaymentId!);

        host.Time.Advance(TimeSpan.FromMinutes(5));
        var resolved = await host.PollPaymentsAsync();

        Assert.Equal(1, resolved);
        Assert.Equal(OrderStatus.Paid, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Single(await host.VouchersOfOrderAsync(order.Id));
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Polling_fails_an_order_whose_payment_failed_without_a_webhook()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var order = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 3);
        await host.QueryAsync(db => db.SandboxPayments.Where(p => p.Id == order.ProviderPaymentId)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Failed)));

        host.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await host.PollPaymentsAsync());

        Assert.Equal(OrderStatus.Failed, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    /// <summary>Vouchers, activities, journal, ledger events and notifications of a paid order exist exactly once.</summary>
    private static async Task AssertIssuedExactlyOnceAsync(TestHost host, Order order, Actor customer)
    {
        var stored = await host.OrderRowAsync(order.Id);
        Assert.Equal(OrderStatus.Paid, stored.Status);
        Assert.NotNull(stored.PaidAt);
        var vouchers = await host.VouchersOfOrderAsync(order.Id);
        Assert.Equal(order.Quantity, vouchers.Count);
        Assert.All(vouchers, v =>
        {
            Assert.Equal(VoucherStatus.Active, v.Status);
            Assert.Equal(customer.Id, v.OwnerId);
            Assert.Equal(order.UnitFaceValue, v.Balance);
            Assert.Equal(order.UnitPrice, v.PricePaid);
        });
        var campaign = await host.CampaignAsync(order.CampaignId);
        Assert.Equal(order.Quantity, campaign.Issued);
        Assert.Equal(order.Quantity, campaign.Reserved);
        Assert.Equal(order.Quantity, await host.ActivityCountAsync(order.Id, VoucherActivityKind.Issued));
        Assert.Single(await host.JournalAsync(JournalEntryKind.Sale, order.Id));
        Assert.Equal(order.Quantity, await host.QueryAsync(db => db.OutboxMessages.CountAsync(m => m.Type == OutboxTypes.LedgerRecord)));

        var channels = host.Services.GetRequiredService<IEnumerable<INotificationSender>>().Select(s => s.Channel).Distinct().ToList();
        Assert.Equal(2, channels.Count);
        var queued = await host.NotificationsQueuedAsync($"purchase:{order.Id:N}");
        Assert.Equal(channels.Order(StringComparer.Ordinal), queued.Select(m => m.DedupeKey.Split(':')[^1]).Order(StringComparer.Ordinal));

        await host.Outbox.DrainAsync();
        await host.Outbox.DrainAsync();

        Assert.Equal(0, await host.UndeliveredAsync());
        Assert.Empty(await host.FailedMessagesAsync());
        var sent = Assert.Single(host.PurchasedMessagesFor(order.Id));
        Assert.Equal(customer.Id, sent.Recipient.UserId);
        var codes = sent.Model["codes"].Split(", ");
        Assert.Equal(vouchers.Select(v => v.DisplayCode).Order(StringComparer.Ordinal), codes.Order(StringComparer.Ordinal));
        Assert.Single(host.Logs.Lines, l => l.Contains($"purchase:{order.Id:N}:log", StringComparison.Ordinal) && l.Contains("LoggingNotificationSender", StringComparison.Ordinal));
        Assert.Equal(order.Quantity, await host.QueryAsync(db => db.LedgerRecords.CountAsync()));
        Assert.Equal(order.Quantity, await host.ActivityCountAsync(order.Id, VoucherActivityKind.Issued));
    }
}
