using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.BuyingAndPayingKit;

namespace OpenMavn.Core.Tests;

public sealed class RefundTests
{
    [Fact]
    public async Task Refunding_an_unredeemed_voucher_refunds_it_and_returns_its_price_through_the_provider()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 5000, price: 4500));
        var customer = await host.CreateCustomerAsync();
        var (order, vouchers) = await host.BuyAsync(customer, campaign.Id, 2);
        var voucher = vouchers[0];

        var refund = await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, voucher.Id, "Customer changed their mind"));

        Assert.Equal(4500, refund.Amount);
        Assert.Equal("CHF", refund.Currency);
        Assert.Equal(voucher.Id, refund.VoucherId);
        Assert.Equal(order.Id, refund.OrderId);
        Assert.Equal(merchantId, refund.MerchantId);
        Assert.Equal(RefundStatus.Requested, refund.Status);
        var refunded = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Refunded, refunded.Status);
        Assert.Equal(0, refunded.Balance);
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(vouchers[1].Id)).Status);
        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(1, after.Reserved);
        Assert.Equal(2, after.Issued);
        Assert.Equal(OrderStatus.Paid, (await host.OrderRowAsync(order.Id)).Status);
        var activity = await host.QueryAsync(db => db.VoucherActivities.AsNoTracking().Where(a => a.VoucherId == voucher.Id && a.Kind == VoucherActivityKind.Refunded).ToListAsync());
        Assert.Equal(refund.Id, Assert.Single(activity).ReferenceId);
        Assert.Equal(0, activity[0].BalanceAfter);
        Assert.Equal(owner.ToString(), activity[0].Actor);
        var entry = Assert.Single(await host.JournalAsync(JournalEntryKind.Refund, refund.Id));
        Assert.Equal(entry.Lines.Sum(l => l.Debit), entry.Lines.Sum(l => l.Credit));
        Assert.Equal(5000, entry.Lines.Single(l => l.Account == LedgerAccount.VoucherLiability).Debit);
        Assert.Equal(4500, entry.Lines.Single(l => l.Account == LedgerAccount.PaymentProviderFunds).Credit);
        Assert.Equal(500, entry.Lines.Single(l => l.Account == LedgerAccount.SalesDiscount).Credit);
        var queued = Assert.Single(await host.OutboxAsync(OutboxTypes.PaymentRefund));
        Assert.Null(queued.ProcessedAt);
        Assert.Equal(PaymentStatus.Confirmed, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).Status);

        await host.Outbox.DrainAsync();

        var payment = await host.SandboxPaymentAsync(order.ProviderPaymentId!);
        Assert.Equal(PaymentStatus.PartiallyRefunded, payment.Status);
        Assert.Equal(4500, payment.RefundedAmount);
        var done = await host.QueryAsync(db => db.Refunds.AsNoTracking().FirstAsync(r => r.Id == refund.Id));
        Assert.Equal(RefundStatus.Completed, done.Status);
        Assert.Equal("sbxr_" + refund.Id.ToString("N"), done.ProviderReference);
        Assert.NotNull(done.ClosedAt);
        Assert.Equal(OrderStatus.Paid, (await host.OrderRowAsync(order.Id)).Status);
        var message = Assert.Single(host.Sent.OfType(NotificationTypes.RefundCompleted));
        Assert.Equal(customer.Id, message.Recipient.UserId);
        Assert.Equal(refund.Id.ToString(), message.Model["refundId"]);
        Assert.Empty(await host.FailedMessagesAsync());

        var second = await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[1].Id, "Second one too"));
        await host.Outbox.DrainAsync();

        payment = await host.SandboxPaymentAsync(order.ProviderPaymentId!);
        Assert.Equal(PaymentStatus.Refunded, payment.Status);
        Assert.Equal(9000, payment.RefundedAmount);
        Assert.Equal(2, await host.QueryAsync(db => db.SandboxRefunds.CountAsync(r => r.PaymentId == payment.Id)));
        Assert.Equal(RefundStatus.Completed, (await host.QueryAsync(db => db.Refunds.AsNoTracking().FirstAsync(r => r.Id == second.Id))).Status);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Refunding_the_only_voucher_of_an_order_refunds_the_whole_payment()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 2000, price: 2000));
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);

        await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Shop closed for renovation"));
        await host.Outbox.DrainAsync();

        var payment = await host.SandboxPaymentAsync(order.ProviderPaymentId!);
        Assert.Equal(PaymentStatus.Refunded, payment.Status);
        Assert.Equal(2000, payment.RefundedAmount);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Stock_returned_by_a_refund_can_be_sold_again_without_overselling()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 1));
        var (_, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);
        var next = await host.CreateCustomerAsync();
        await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(next, campaign.Id, 1));

        await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Refunded"));
        var (resold, more) = await host.BuyAsync(next, campaign.Id, 1);

        Assert.Equal(OrderStatus.Paid, resold.Status);
        Assert.Single(more);
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(1, await host.QueryAsync(db => db.Vouchers.CountAsync(v => v.CampaignId == campaign.Id && v.Status == VoucherStatus.Active)));
    }

    [Fact]
    public async Task A_partly_redeemed_stored_value_voucher_cannot_be_refunded()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 5000, price: 5000, kind: VoucherKind.StoredValue));
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, vouchers[0].DisplayCode, 1000, "till-1"));

        var refused = await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Wants the rest back")));

        Assert.Equal("voucher.partly_redeemed", refused.Code);
        var voucher = await host.VoucherAsync(vouchers[0].Id);
        Assert.Equal(VoucherStatus.Active, voucher.Status);
        Assert.Equal(4000, voucher.Balance);
        Assert.Empty(await host.RefundsOfOrderAsync(order.Id));
        Assert.Empty(await host.OutboxAsync(OutboxTypes.PaymentRefund));
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(0, await host.ActivityCountAsync(order.Id, VoucherActivityKind.Refunded));
    }

    [Fact]
    public async Task A_redeemed_voucher_cannot_be_refunded()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId, campaign) = await host.ShopAsync();
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, vouchers[0].DisplayCode, null, "till-1"));

        var refused = await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Too late")));

        Assert.Equal("voucher.not_active", refused.Code);
        Assert.Equal(VoucherStatus.Redeemed, (await host.VoucherAsync(vouchers[0].Id)).Status);
        Assert.Empty(await host.RefundsOfOrderAsync(order.Id));
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Refunding_a_voucher_twice_is_a_conflict_and_pays_back_once()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync();
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 2);
        await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "First"));

        var second = await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Second")));
        await host.Outbox.DrainAsync();

        Assert.Equal("voucher.not_active", second.Code);
        Assert.Single(await host.RefundsOfOrderAsync(order.Id));
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(order.UnitPrice, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).RefundedAmount);
        Assert.Equal(1, await host.ActivityCountAsync(order.Id, VoucherActivityKind.Refunded));
    }

    [Fact]
    public async Task Ten_concurrent_refunds_of_one_voucher_let_exactly_one_succeed()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync();
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 2);

        var attempts = await RunTogetherAsync(10, i => host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, $"Attempt {i}")));

        var refund = Assert.Single(attempts, a => a.Succeeded).Value!;
        Assert.All(attempts.Where(a => !a.Succeeded), a => AssertConflict(a, "voucher.not_active"));
        Assert.Single(await host.RefundsOfOrderAsync(order.Id));
        Assert.Single(await host.JournalAsync(JournalEntryKind.Refund, refund.Id));
        Assert.Equal(1, await host.QueryAsync(db => db.JournalEntries.CountAsync(e => e.Kind == JournalEntryKind.Refund)));
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(1, await host.ActivityCountAsync(order.Id, VoucherActivityKind.Refunded));
        Assert.Single(await host.OutboxAsync(OutboxTypes.PaymentRefund));

        await host.Outbox.DrainAsync();

        var payment = await host.SandboxPaymentAsync(order.ProviderPaymentId!);
        Assert.Equal(order.UnitPrice, payment.RefundedAmount);
        Assert.Equal(PaymentStatus.PartiallyRefunded, payment.Status);
    }

    [Fact]
    public async Task A_refund_racing_a_redemption_of_the_same_voucher_lets_only_one_happen()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 3000, price: 3000));
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 5);

        var attempts = await RunTogetherAsync(10, async i =>
        {
            var voucher = vouchers[i / 2];
            if (i % 2 == 0)
            {
                await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, voucher.Id, "Race"));
            }
            else
            {
                await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, voucher.DisplayCode, null, $"till-{i}"));
            }
        });

        var refundedCount = 0;
        for (var v = 0; v < vouchers.Count; v++)
        {
            var refund = attempts[2 * v];
            var redemption = attempts[(2 * v) + 1];
            Assert.True(refund.Succeeded ^ redemption.Succeeded, $"voucher {v}: refund {refund.Error?.Message}, redemption {redemption.Error?.Message}");
            var stored = await host.VoucherAsync(vouchers[v].Id);
            Assert.Equal(0, stored.Balance);
            Assert.Equal(refund.Succeeded ? VoucherStatus.Refunded : VoucherStatus.Redeemed, stored.Status);
            if (refund.Succeeded)
            {
                refundedCount++;
                AssertConflict(redemption, "voucher.not_active");
            }
            else
            {
                AssertConflict(refund, "voucher.not_active");
            }
        }

        Assert.Equal(refundedCount, (await host.RefundsOfOrderAsync(order.Id)).Count);
        Assert.Equal(5 - refundedCount, await host.QueryAsync(db => db.Redemptions.CountAsync()));
        Assert.Equal(5 - refundedCount, (await host.CampaignAsync(campaign.Id)).Reserved);
        await host.Outbox.DrainAsync();
        Assert.Equal(3000 * refundedCount, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).RefundedAmount);
    }

    [Fact]
    public async Task Refunds_of_every_voucher_of_an_order_delivered_by_parallel_dispatchers_return_the_whole_payment()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.BatchSize = 1);
        var (owner, _, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 1000, price: 1000));
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 8);
        await host.Outbox.DrainAsync();
        foreach (var voucher in vouchers)
        {
            await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, voucher.Id, "Event cancelled"));
        }

        // Several host instances deliver the outbox at once: refunds of one payment run side by side.
        var dispatchers = await RunTogetherAsync(6, _ => host.Outbox.DrainAsync());
        await host.Outbox.DrainAsync();

        Assert.All(dispatchers, r => Assert.True(r.Succeeded, r.Error?.ToString()));
        Assert.Empty(await host.FailedMessagesAsync());
        var refunds = await host.RefundsOfOrderAsync(order.Id);
        Assert.Equal(8, refunds.Count);
        Assert.All(refunds, r => Assert.Equal(RefundStatus.Completed, r.Status));
        var payment = await host.SandboxPaymentAsync(order.ProviderPaymentId!);
        Assert.Equal(8, await host.QueryAsync(db => db.SandboxRefunds.CountAsync(r => r.PaymentId == payment.Id)));
        Assert.Equal(8000, await host.QueryAsync(db => db.SandboxRefunds.Where(r => r.PaymentId == payment.Id).SumAsync(r => r.Amount)));
        Assert.Equal(8000, payment.RefundedAmount);
        Assert.Equal(PaymentStatus.Refunded, payment.Status);
    }

    [Fact]
    public async Task A_customer_cannot_refund_even_their_own_voucher()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var (order, vouchers) = await host.BuyAsync(customer, campaign.Id, 1);

        var refused = await Assert.ThrowsAsync<ForbiddenException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(customer, vouchers[0].Id, "I want my money")));

        Assert.Equal("merchant.forbidden", refused.Code);
        await AssertUntouchedAsync(host, order, vouchers[0]);
    }

    [Fact]
    public async Task Staff_who_are_not_owners_cannot_refund()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId, campaign) = await host.ShopAsync();
        var staff = await host.AddStaffAsync(owner, merchantId);
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);

        await Assert.ThrowsAsync<ForbiddenException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(staff, vouchers[0].Id, "Staff refund")));

        await AssertUntouchedAsync(host, order, vouchers[0]);
    }

    [Fact]
    public async Task The_owner_of_another_merchant_cannot_refund()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var (otherOwner, _) = await host.CreateApprovedMerchantAsync();
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);

        await Assert.ThrowsAsync<ForbiddenException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(otherOwner, vouchers[0].Id, "Not mine")));

        await AssertUntouchedAsync(host, order, vouchers[0]);
    }

    [Fact]
    public async Task A_platform_operator_can_refund()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);
        var admin = Actor.Admin(Guid.NewGuid());

        var refund = await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(admin, vouchers[0].Id, "Chargeback avoided"));
        await host.Outbox.DrainAsync();

        Assert.Equal(VoucherStatus.Refunded, (await host.VoucherAsync(vouchers[0].Id)).Status);
        Assert.Equal(order.Amount, (await host.SandboxPaymentAsync(order.ProviderPaymentId!)).RefundedAmount);
        Assert.Equal(RefundStatus.Completed, (await host.QueryAsync(db => db.Refunds.AsNoTracking().FirstAsync(r => r.Id == refund.Id))).Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_refund_needs_a_reason(string reason)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync();
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 1);

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, reason)));

        Assert.Equal(["reason"], error.Errors.Keys);
        await AssertUntouchedAsync(host, order, vouchers[0]);
    }

    [Fact]
    public async Task Refunding_an_unknown_voucher_is_not_found()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, _) = await host.ShopAsync();

        var error = await Assert.ThrowsAsync<NotFoundException>(() =>
            host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, Guid.NewGuid(), "Whatever")));

        Assert.Equal("voucher.not_found", error.Code);
    }

    [Fact]
    public async Task Refunding_a_free_voucher_completes_at_once_without_calling_the_provider()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 1000, price: 0));
        var order = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 1);
        var voucher = Assert.Single(await host.VouchersOfOrderAsync(order.Id));

        var refund = await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, voucher.Id, "Giveaway withdrawn"));
        await host.Outbox.DrainAsync();

        Assert.Equal(0, refund.Amount);
        Assert.Equal(RefundStatus.Completed, refund.Status);
        Assert.Empty(await host.OutboxAsync(OutboxTypes.PaymentRefund));
        Assert.Empty(await host.FailedMessagesAsync());
        Assert.Equal(VoucherStatus.Refunded, (await host.VoucherAsync(voucher.Id)).Status);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    private static async Task AssertUntouchedAsync(TestHost host, Order order, Voucher voucher)
    {
        var stored = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Active, stored.Status);
        Assert.Equal(voucher.FaceValue, stored.Balance);
        Assert.Empty(await host.RefundsOfOrderAsync(order.Id));
        Assert.Empty(await host.OutboxAsync(OutboxTypes.PaymentRefund));
        Assert.Equal(order.Quantity, (await host.CampaignAsync(order.CampaignId)).Reserved);
        Assert.Equal(0, await host.ActivityCountAsync(order.Id, VoucherActivityKind.Refunded));
    }
}
