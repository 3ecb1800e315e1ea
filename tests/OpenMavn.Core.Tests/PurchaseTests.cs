using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.BuyingAndPayingKit;

namespace OpenMavn.Core.Tests;

public sealed class PurchaseTests
{
    [Fact]
    public async Task Replaying_an_idempotency_key_with_the_same_content_returns_the_same_order_and_reserves_once()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();

        var first = await host.OrderAsync(customer, campaign.Id, 2, key: "key-1");
        var second = await host.OrderAsync(customer, campaign.Id, 2, key: "key-1");

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(OrderStatus.PendingPayment, second.Status);
        Assert.NotNull(first.ProviderPaymentId);
        Assert.Equal(first.ProviderPaymentId, second.ProviderPaymentId);
        Assert.Equal(first.CheckoutUrl, second.CheckoutUrl);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(1, await host.QueryAsync(db => db.Orders.CountAsync()));
        Assert.Equal(1, await host.QueryAsync(db => db.SandboxPayments.CountAsync()));
    }

    [Fact]
    public async Task Replaying_the_key_of_a_paid_order_returns_it_without_issuing_again_even_once_sales_paused()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2, key: "paid-key");
        await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);

        var replay = await host.OrderAsync(customer, campaign.Id, 2, key: "paid-key");
        await host.RunAsync<CampaignService>(s => s.PauseAsync(owner, campaign.Id));
        var replayWhilePaused = await host.OrderAsync(customer, campaign.Id, 2, key: "paid-key");

        Assert.Equal(order.Id, replay.Id);
        Assert.Equal(order.Id, replayWhilePaused.Id);
        Assert.Equal(OrderStatus.Paid, replayWhilePaused.Status);
        Assert.Equal(OrderStatus.Paid, replay.Status);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(2, await host.VoucherCountAsync(campaign.Id));
    }

    [Fact]
    public async Task Reusing_an_idempotency_key_for_another_quantity_or_campaign_is_refused()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId, campaign) = await host.ShopAsync();
        var other = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id, 2, key: "key-1");

        var otherQuantity = await Assert.ThrowsAsync<IdempotencyConflictException>(() => host.OrderAsync(customer, campaign.Id, 3, key: "key-1"));
        var otherCampaign = await Assert.ThrowsAsync<IdempotencyConflictException>(() => host.OrderAsync(customer, other.Id, 2, key: "key-1"));

        Assert.Equal("idempotency.key_reused", otherQuantity.Code);
        Assert.Equal("idempotency.key_reused", otherCampaign.Code);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(0, (await host.CampaignAsync(other.Id)).Reserved);
        var orders = await host.QueryAsync(db => db.Orders.AsNoTracking().ToListAsync());
        Assert.Equal(order.Id, Assert.Single(orders).Id);
        Assert.Equal(2, orders[0].Quantity);
    }

    [Fact]
    public async Task The_same_idempotency_key_from_two_customers_gives_each_their_own_order()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var alice = await host.CreateCustomerAsync();
        var bob = await host.CreateCustomerAsync();

        var a = await host.OrderAsync(alice, campaign.Id, 1, key: "checkout-1");
        var b = await host.OrderAsync(bob, campaign.Id, 1, key: "checkout-1");

        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(alice.Id, a.CustomerId);
        Assert.Equal(bob.Id, b.CustomerId);
        Assert.NotEqual(a.ProviderPaymentId, b.ProviderPaymentId);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Twenty_parallel_requests_with_one_idempotency_key_create_exactly_one_order_and_one_reservation()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();

        var attempts = await RunTogetherAsync(20, _ => host.OrderAsync(customer, campaign.Id, 3, key: "double-click"));

        Assert.All(attempts, a => Assert.True(a.Succeeded, a.Error?.ToString()));
        var ids = attempts.Select(a => a.Value!.Id).Distinct().ToList();
        Assert.Single(ids);
        Assert.Single(attempts.Select(a => a.Value!.ProviderPaymentId).Distinct());
        Assert.All(attempts, a => Assert.NotNull(a.Value!.CheckoutUrl));
        Assert.Equal(3, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(1, await host.QueryAsync(db => db.Orders.CountAsync()));
        Assert.Equal(1, await host.QueryAsync(db => db.SandboxPayments.CountAsync()));
        var stored = await host.OrderRowAsync(ids[0]);
        Assert.Equal(stored.ProviderPaymentId, attempts[0].Value!.ProviderPaymentId);
    }

    [Fact]
    public async Task Parallel_requests_with_one_key_but_different_quantities_create_one_order_and_refuse_the_rest()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();

        var attempts = await RunTogetherAsync(20, i => host.OrderAsync(customer, campaign.Id, 1 + (i % 2), key: "racy"));

        var order = Assert.Single(await host.QueryAsync(db => db.Orders.AsNoTracking().ToListAsync()));
        Assert.All(attempts, a =>
        {
            if (a.Succeeded)
            {
                Assert.Equal(order.Id, a.Value!.Id);
            }
            else
            {
                Assert.IsType<IdempotencyConflictException>(a.Error);
            }
        });
        Assert.Equal(10, attempts.Count(a => a.Succeeded));
        Assert.Equal(order.Quantity, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Two_hundred_parallel_purchases_of_fifty_vouchers_sell_exactly_fifty()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 50));
        var customers = new Actor[200];
        for (var i = 0; i < customers.Length; i++)
        {
            customers[i] = await host.CreateCustomerAsync();
        }

        var maxReserved = 0;
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                var reserved = (await host.CampaignAsync(campaign.Id)).Reserved;
                maxReserved = Math.Max(maxReserved, reserved);
            }
        });

        var attempts = await RunTogetherAsync(200, i => host.OrderAsync(customers[i], campaign.Id, 1));
        await stopSampling.CancelAsync();
        await sampler;

        var sold = attempts.Where(a => a.Succeeded).Select(a => a.Value!).ToList();
        Assert.Equal(50, sold.Count);
        Assert.All(attempts.Where(a => !a.Succeeded), a => AssertConflict(a, "campaign.sold_out"));
        Assert.Equal(50, sold.Select(o => o.CustomerId).Distinct().Count());
        Assert.All(sold, o => Assert.NotNull(o.ProviderPaymentId));
        Assert.Equal(50, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.InRange(maxReserved, 0, 50);
        Assert.Equal(50, await host.QueryAsync(db => db.Orders.CountAsync()));
        Assert.Equal(50, await host.QueryAsync(db => db.SandboxPayments.CountAsync()));

        var confirmations = await RunTogetherAsync(sold.Count, i => host.Sandbox.ConfirmAsync(sold[i].ProviderPaymentId!));

        Assert.All(confirmations, c => Assert.Equal(PaymentApplication.VouchersIssued, c.Value));
        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(50, after.Reserved);
        Assert.Equal(50, after.Issued);
        Assert.Equal(50, await host.VoucherCountAsync(campaign.Id));
        Assert.Equal(50, await host.QueryAsync(db => db.Vouchers.Select(v => v.Code).Distinct().CountAsync()));
        Assert.Equal(50, await host.QueryAsync(db => db.Orders.CountAsync(o => o.Status == OrderStatus.Paid)));
        await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customers[0], campaign.Id, 1));
    }

    [Fact]
    public async Task An_order_larger_than_the_remaining_stock_is_refused_without_taking_any()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(supply: 5));
        var customer = await host.CreateCustomerAsync();
        await host.OrderAsync(customer, campaign.Id, 3);

        var refused = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 3));

        Assert.Equal("campaign.sold_out", refused.Code);
        Assert.Equal(3, (await host.CampaignAsync(campaign.Id)).Reserved);
        var rest = await host.OrderAsync(customer, campaign.Id, 2);
        Assert.Equal(OrderStatus.PendingPayment, rest.Status);
        Assert.Equal(5, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task A_customer_cannot_buy_more_than_the_per_customer_limit()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition() with { PerCustomerLimit = 3 });
        var alice = await host.CreateCustomerAsync();
        var bob = await host.CreateCustomerAsync();

        await host.BuyAsync(alice, campaign.Id, 2);
        await host.OrderAsync(alice, campaign.Id, 1);
        var refused = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(alice, campaign.Id, 1));
        var tooMany = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(bob, campaign.Id, 4));
        var bobs = await host.OrderAsync(bob, campaign.Id, 3);

        Assert.Equal("campaign.customer_limit", refused.Code);
        Assert.Equal("campaign.customer_limit", tooMany.Code);
        Assert.Equal(3, bobs.Quantity);
        Assert.Equal(6, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(3, await host.QueryAsync(db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task Parallel_orders_of_one_customer_never_exceed_the_per_customer_limit()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition() with { PerCustomerLimit = 3 });
        var customer = await host.CreateCustomerAsync();

        var attempts = await RunTogetherAsync(20, _ => host.OrderAsync(customer, campaign.Id, 1));

        Assert.Equal(3, attempts.Count(a => a.Succeeded));
        Assert.All(attempts.Where(a => !a.Succeeded), a => AssertConflict(a, "campaign.customer_limit"));
        Assert.Equal(3, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(3, await host.QueryAsync(db => db.Orders.Where(o => o.CustomerId == customer.Id).SumAsync(o => o.Quantity)));
    }

    [Fact]
    public async Task Failed_and_expired_orders_no_longer_count_against_the_per_customer_limit()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition() with { PerCustomerLimit = 2 });
        var customer = await host.CreateCustomerAsync();
        var failed = await host.OrderAsync(customer, campaign.Id, 1);
        await host.OrderAsync(customer, campaign.Id, 1);
        await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1));

        await host.Sandbox.FailAsync(failed.ProviderPaymentId!);
        var third = await host.OrderAsync(customer, campaign.Id, 1);
        await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1));
        host.Time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(2, await host.ExpireReservationsAsync());
        var (again, vouchers) = await host.BuyAsync(customer, campaign.Id, 2);

        Assert.Equal(OrderStatus.Failed, (await host.OrderRowAsync(failed.Id)).Status);
        Assert.Equal(OrderStatus.Expired, (await host.OrderRowAsync(third.Id)).Status);
        Assert.Equal(OrderStatus.Paid, again.Status);
        Assert.Equal(2, vouchers.Count);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Theory]
    [InlineData(CampaignState.Draft)]
    [InlineData(CampaignState.Paused)]
    [InlineData(CampaignState.Ended)]
    public async Task Ordering_is_refused_unless_the_campaign_is_published(CampaignState state)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));
        if (state != CampaignState.Draft)
        {
            await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
            await host.RunAsync<CampaignService>(s => state == CampaignState.Paused ? s.PauseAsync(owner, campaign.Id) : s.EndAsync(owner, campaign.Id));
        }

        var customer = await host.CreateCustomerAsync();
        var refused = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1));

        Assert.Equal("campaign.not_on_sale", refused.Code);
        Assert.Equal(state, (await host.CampaignAsync(campaign.Id)).State);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(0, await host.QueryAsync(db => db.Orders.CountAsync()));
        Assert.Equal(0, await host.QueryAsync(db => db.SandboxPayments.CountAsync()));
    }

    [Fact]
    public async Task A_paused_campaign_sells_again_once_resumed()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();
        await host.RunAsync<CampaignService>(s => s.PauseAsync(owner, campaign.Id));
        await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1, key: "k"));

        await host.RunAsync<CampaignService>(s => s.ResumeAsync(owner, campaign.Id));
        var order = await host.OrderAsync(customer, campaign.Id, 1, key: "k");

        Assert.Equal(OrderStatus.PendingPayment, order.Status);
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Ordering_before_the_sales_window_opens_is_refused_and_allowed_once_it_opens()
    {
        await using var host = await TestHost.StartAsync();
        var opens = TestHost.Start.AddDays(2);
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition() with { SalesStartAt = opens, SalesEndAt = opens.AddDays(7) });
        var customer = await host.CreateCustomerAsync();

        var early = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1));
        host.Time.SetUtcNow(opens.AddTicks(-1));
        var stillEarly = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1));
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
        host.Time.SetUtcNow(opens);
        var order = await host.OrderAsync(customer, campaign.Id, 1);

        Assert.Equal("campaign.not_started", early.Code);
        Assert.Equal("campaign.not_started", stillEarly.Code);
        Assert.Equal(OrderStatus.PendingPayment, order.Status);
        Assert.Equal(1, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Ordering_after_the_sales_window_closed_is_refused()
    {
        await using var host = await TestHost.StartAsync();
        var closes = TestHost.Start.AddDays(1);
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition() with { SalesEndAt = closes });
        var customer = await host.CreateCustomerAsync();
        host.Time.SetUtcNow(closes.AddTicks(-1));
        var last = await host.OrderAsync(customer, campaign.Id, 1);

        host.Time.SetUtcNow(closes);
        var refused = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1));
        host.Time.Advance(TimeSpan.FromDays(30));
        var later = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id, 1));

        Assert.Equal(OrderStatus.PendingPayment, last.Status);
        Assert.Equal("campaign.sales_ended", refused.Code);
        Assert.Equal("campaign.sales_ended", later.Code);
        Assert.Equal(1, await host.QueryAsync(db => db.Orders.CountAsync()));
    }

    [Theory]
    [InlineData(0, "k", "quantity")]
    [InlineData(-1, "k", "quantity")]
    [InlineData(51, "k", "quantity")]
    [InlineData(int.MaxValue, "k", "quantity")]
    [InlineData(1, "", "idempotencyKey")]
    [InlineData(1, "   ", "idempotencyKey")]
    [InlineData(1, "a\nb", "idempotencyKey")]
    public async Task Invalid_order_input_is_refused_naming_the_field(int quantity, string key, string field)
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.OrderAsync(customer, campaign.Id, quantity, key));

        Assert.Equal([field], error.Errors.Keys);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
        Assert.Equal(0, await host.QueryAsync(db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task An_idempotency_key_longer_than_128_characters_is_refused_and_one_of_128_accepted()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.OrderAsync(customer, campaign.Id, 1, new string('k', 129)));
        var order = await host.OrderAsync(customer, campaign.Id, 1, new string('k', 128));

        Assert.Contains("idempotencyKey", error.Errors.Keys);
        Assert.Equal(new string('k', 128), order.IdempotencyKey);
    }

    [Fact]
    public async Task Several_invalid_fields_are_all_named_together()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() =>
            host.RunAsync<PurchaseService, Order>(s => s.PlaceOrderAsync(customer, new PlaceOrder(campaign.Id, 0, "", "not a language"))));

        Assert.Equal(["idempotencyKey", "language", "quantity"], error.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_configured_maximum_order_quantity_is_enforced()
    {
        await using var host = await TestHost.StartAsync(o => o.MaxOrderQuantity = 3);
        var (_, _, campaign) = await host.ShopAsync();
        var customer = await host.CreateCustomerAsync();

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.OrderAsync(customer, campaign.Id, 4));
        var order = await host.OrderAsync(customer, campaign.Id, 3);

        Assert.Contains("quantity", error.Errors.Keys);
        Assert.Equal(3, order.Quantity);
        Assert.Equal(3, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task Only_customers_place_orders()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, _, campaign) = await host.ShopAsync();

        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => host.OrderAsync(owner, campaign.Id, 1));

        Assert.Equal("order.customer_only", refused.Code);
        Assert.Equal(0, (await host.CampaignAsync(campaign.Id)).Reserved);
    }

    [Fact]
    public async Task An_order_records_the_price_and_face_value_at_ordering_time_and_its_expiry()
    {
        await using var host = await TestHost.StartAsync(o => o.ReservationTimeout = TimeSpan.FromMinutes(10));
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 5000, price: 4500));
        var customer = await host.CreateCustomerAsync();

        var order = await host.OrderAsync(customer, campaign.Id, 3);

        Assert.Equal(4500, order.UnitPrice);
        Assert.Equal(5000, order.UnitFaceValue);
        Assert.Equal(13_500, order.Amount);
        Assert.Equal("CHF", order.Currency);
        Assert.Equal("sandbox", order.PaymentProvider);
        Assert.True(order.HoldsStock);
        Assert.Equal(TestHost.Start.AddMinutes(10), order.ReservationExpiresAt);
        var payment = await host.SandboxPaymentAsync(order.ProviderPaymentId!);
        Assert.Equal(13_500, payment.Amount);
        Assert.Equal(order.Id, payment.OrderId);
        Assert.EndsWith(order.ProviderPaymentId!, order.CheckoutUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_free_campaign_order_is_paid_at_once_without_a_checkout()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 1000, price: 0));
        var customer = await host.CreateCustomerAsync();

        var order = await host.OrderAsync(customer, campaign.Id, 2, key: "free");
        var replay = await host.OrderAsync(customer, campaign.Id, 2, key: "free");

        Assert.Equal(OrderStatus.Paid, order.Status);
        Assert.Equal(0, order.Amount);
        Assert.NotNull(order.PaidAt);
        Assert.Null(order.CheckoutUrl);
        Assert.Null(order.ProviderPaymentId);
        Assert.Null(order.PaymentProvider);
        Assert.Equal(order.Id, replay.Id);
        var vouchers = await host.VouchersOfOrderAsync(order.Id);
        Assert.Equal(2, vouchers.Count);
        Assert.All(vouchers, v =>
        {
            Assert.Equal(VoucherStatus.Active, v.Status);
            Assert.Equal(0, v.PricePaid);
            Assert.Equal(1000, v.Balance);
            Assert.Equal(customer.Id, v.OwnerId);
        });
        Assert.Equal(0, await host.QueryAsync(db => db.SandboxPayments.CountAsync()));
        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(2, after.Reserved);
        Assert.Equal(2, after.Issued);

        host.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await host.ExpireReservationsAsync());
        Assert.Equal(0, await host.PollPaymentsAsync());
        Assert.Equal(OrderStatus.Paid, (await host.OrderRowAsync(order.Id)).Status);
        Assert.Equal(2, (await host.CampaignAsync(campaign.Id)).Reserved);
        await host.Outbox.DrainAsync();
        Assert.Single(host.PurchasedMessagesFor(order.Id));
    }

    [Fact]
    public async Task Parallel_free_orders_never_give_away_more_than_the_supply()
    {
        await using var host = await TestHost.StartAsync();
        var (_, _, campaign) = await host.ShopAsync(TestHost.Definition(faceValue: 1000, price: 0, supply: 10));
        var customers = new Actor[30];
        for (var i = 0; i < customers.Length; i++)
        {
            customers[i] = await host.CreateCustomerAsync();
        }

        var attempts = await RunTogetherAsync(30, i => host.OrderAsync(customers[i], campaign.Id, 1));

        Assert.Equal(10, attempts.Count(a => a.Succeeded));
        Assert.All(attempts.Where(a => !a.Succeeded), a => AssertConflict(a, "campaign.sold_out"));
        Assert.Equal(10, await host.VoucherCountAsync(campaign.Id));
        var after = await host.CampaignAsync(campaign.Id);
        Assert.Equal(10, after.Reserved);
        Assert.Equal(10, after.Issued);
    }
}
