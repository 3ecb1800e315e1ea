using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Accounts;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Gifts;

namespace OpenMavn.Core.Tests;

public sealed class SettlementTests
{
    [Fact]
    public async Task A_payout_recorded_twice_or_concurrently_with_one_reference_is_booked_once()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 2);
        var gate = new TaskCompletionSource();

        var runs = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            await gate.Task;
            await host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(5000, "CHF"), "payrexx-payout-77"));
        })).ToList();
        gate.SetResult();
        await Task.WhenAll(runs);
        await host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(5000, "chf"), " payrexx-payout-77 "));

        var balance = Assert.Single(await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(owner, merchantId)));
        Assert.Equal(5000, balance.PaidOut);
        Assert.Equal(9000 - 5000, balance.HeldAtPaymentProvider);
        Assert.Equal(1, await host.QueryAsync(db => db.JournalEntries.CountAsync(e => e.Kind == JournalEntryKind.Payout)));
    }

    [Fact]
    public async Task A_payout_reference_reused_with_another_amount_is_refused_and_books_nothing_more()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        await host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(1000, "CHF"), "statement-2026-03-02"));

        await Assert.ThrowsAsync<IdempotencyConflictException>(() =>
            host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(1001, "CHF"), "statement-2026-03-02")));
        await Assert.ThrowsAsync<IdempotencyConflictException>(() =>
            host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(1000, "EUR"), "statement-2026-03-02")));
        var error = await Assert.ThrowsAsync<ValidationFailedException>(() =>
            host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(1000, "CHF"), " ")));
        Assert.Equal("reference", Assert.Single(error.Errors.Keys));
        Assert.Equal(1, await host.QueryAsync(db => db.JournalEntries.CountAsync()));
    }

    [Fact]
    public async Task A_gift_scheduled_after_its_voucher_expires_is_cancelled_by_the_delivery_job_not_delivered()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition() with { ValidityDays = 1 });
        var sender = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(sender, campaign.Id);
        var voucher = vouchers[0];
        var gift = await host.RunAsync<GiftService, Gift>(s => s.SendAsync(sender, new SendGift(voucher.Id, "later@example.ch", DeliverAt: voucher.ExpiresAt.AddHours(1))));

        host.Time.SetUtcNow(voucher.ExpiresAt.AddHours(2));
        var delivered = await host.RunAsync<GiftService, int>(s => s.DeliverDueAsync());
        await host.Outbox.DrainAsync();

        Assert.Equal(0, delivered);
        var stored = await host.QueryAsync(db => db.Gifts.AsNoTracking().FirstAsync(g => g.Id == gift.Id));
        Assert.Equal(GiftStatus.Cancelled, stored.Status);
        Assert.Null(stored.ProtectedClaimToken);
        Assert.Empty(host.Sent.OfType(Notifications.NotificationTypes.GiftReceived));
        Assert.Equal(sender.Id, (await host.VoucherAsync(voucher.Id)).OwnerId);
    }
}

public sealed class TestModeTests
{
    [Fact]
    public async Task A_test_mode_payment_is_refused_when_the_provider_does_not_accept_test_payments()
    {
        await using var host = await TestHost.StartAsync(services: s => s.Configure<Payments.SandboxPaymentOptions>(o => o.AcceptTestPayments = false));
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var order = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id);

        var outcome = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);

        Assert.Equal(Orders.PaymentApplication.Rejected, outcome);
        Assert.Equal(0, await host.QueryAsync(db => db.Vouchers.CountAsync()));
        Assert.Equal(Orders.OrderStatus.PendingPayment, (await host.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync())).Status);
        Assert.Contains(host.Logs.Lines, l => l.Contains("test mode", StringComparison.Ordinal));
    }
}
