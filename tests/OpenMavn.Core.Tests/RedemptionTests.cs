using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

public sealed class RedemptionTests
{
    [Fact]
    public async Task A_preview_shows_what_would_happen_and_changes_nothing()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var activitiesBefore = (await ActivitiesAsync(host, voucher.Id)).Count;
        var outboxBefore = await CountOutboxAsync(host);

        var preview = await host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(shop.Staff, shop.MerchantId, voucher.DisplayCode, 1200, "en"));

        Assert.Equal(voucher.Id, preview.VoucherId);
        Assert.Equal("Coffee voucher", preview.CampaignName);
        Assert.Equal(1200, preview.Amount.Amount);
        Assert.Equal(5000, preview.BalanceBefore.Amount);
        Assert.Equal(3800, preview.BalanceAfter.Amount);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(5000, after.Balance);
        Assert.Equal(VoucherStatus.Active, after.Status);
        Assert.Equal(voucher.Version, after.Version);
        Assert.Equal(activitiesBefore, (await ActivitiesAsync(host, voucher.Id)).Count);
        Assert.Equal(outboxBefore, await CountOutboxAsync(host));
        Assert.Equal(0, await host.QueryAsync(db => db.Redemptions.CountAsync()));
    }

    [Fact]
    public async Task A_single_use_voucher_is_redeemed_whole_and_its_owner_is_told()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var customer = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);

        var receipt = await RedeemAsync(host, shop, voucher.DisplayCode);

        Assert.False(receipt.Replayed);
        Assert.Equal(5000, receipt.Amount.Amount);
        Assert.Equal(0, receipt.BalanceAfter.Amount);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Redeemed, after.Status);
        Assert.Equal(0, after.Balance);
        var redemption = await host.QueryAsync(db => db.Redemptions.SingleAsync());
        Assert.Equal(receipt.RedemptionId, redemption.Id);
        Assert.Equal(shop.Staff.ToString(), redemption.RedeemedBy);
        var redeemed = Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Redeemed);
        Assert.Equal(5000, redeemed.Amount);
        Assert.Equal(0, redeemed.BalanceAfter);
        Assert.Equal(redemption.Id, redeemed.ReferenceId);
        await host.Outbox.DrainAsync();
        Assert.Single(host.Sent.OfType(NotificationTypes.VoucherRedeemed), m => m.Recipient.UserId == customer.Id);
        var books = (await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(shop.Owner, shop.MerchantId))).Single();
        Assert.Equal(5000, books.Redeemed);
        Assert.Equal(0, books.OutstandingLiability);
    }

    [Theory]
    [InlineData(1000L)]
    [InlineData(4999L)]
    [InlineData(5001L)]
    [InlineData(0L)]
    public async Task A_single_use_voucher_refuses_any_amount_but_its_whole_value(long amount)
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => RedeemAsync(host, shop, voucher.Code, amount));

        Assert.Contains("amount", error.Errors.Keys);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Active, after.Status);
        Assert.Equal(5000, after.Balance);
        Assert.Equal(0, await host.QueryAsync(db => db.Redemptions.CountAsync()));

        // The explicit whole amount is fine.
        var receipt = await RedeemAsync(host, shop, voucher.Code, 5000);
        Assert.Equal(5000, receipt.Amount.Amount);
    }

    [Fact]
    public async Task A_stored_value_voucher_is_redeemed_in_parts_down_to_zero()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        var first = await RedeemAsync(host, shop, voucher.Code, 1200);
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(voucher.Id)).Status);
        var second = await RedeemAsync(host, shop, voucher.Code, 800);
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(voucher.Id)).Status);
        var third = await RedeemAsync(host, shop, voucher.Code, 3000);

        Assert.Equal(new[] { 3800L, 3000L, 0L }, new[] { first.BalanceAfter.Amount, second.BalanceAfter.Amount, third.BalanceAfter.Amount });
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(0, after.Balance);
        Assert.Equal(VoucherStatus.Redeemed, after.Status);
        var redeemed = (await ActivitiesAsync(host, voucher.Id)).Where(a => a.Kind == VoucherActivityKind.Redeemed).ToList();
        Assert.Equal(new[] { 1200L, 800L, 3000L }, redeemed.Select(a => a.Amount));
        Assert.Equal(new[] { 3800L, 3000L, 0L }, redeemed.Select(a => a.BalanceAfter));
        var error = await Assert.ThrowsAsync<ConflictException>(() => RedeemAsync(host, shop, voucher.Code, 1));
        Assert.Equal("voucher.already_redeemed", error.Code);
        var books = (await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(shop.Owner, shop.MerchantId))).Single();
        Assert.Equal(5000, books.Redeemed);
        Assert.Equal(0, books.OutstandingLiability);
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(shop.MerchantId)));
    }

    [Fact]
    public async Task Redeeming_a_stored_value_voucher_without_an_amount_takes_the_whole_balance()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        await RedeemAsync(host, shop, voucher.Code, 1500);

        var receipt = await RedeemAsync(host, shop, voucher.Code);

        Assert.Equal(3500, receipt.Amount.Amount);
        Assert.Equal(VoucherStatus.Redeemed, (await host.VoucherAsync(voucher.Id)).Status);
    }

    [Fact]
    public async Task An_amount_above_the_balance_is_refused_and_changes_nothing()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        await RedeemAsync(host, shop, voucher.Code, 4000);
        var outboxBefore = await CountOutboxAsync(host);

        var error = await Assert.ThrowsAsync<ConflictException>(() => RedeemAsync(host, shop, voucher.Code, 1001));

        Assert.Equal("voucher.insufficient_balance", error.Code);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(1000, after.Balance);
        Assert.Equal(VoucherStatus.Active, after.Status);
        Assert.Equal(1, await host.QueryAsync(db => db.Redemptions.CountAsync()));
        Assert.Equal(outboxBefore, await CountOutboxAsync(host));
        var preview = await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(shop.Staff, shop.MerchantId, voucher.Code, 1001)));
        Assert.Equal("voucher.insufficient_balance", preview.Code);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(-5000L)]
    [InlineData(long.MinValue)]
    public async Task A_zero_or_negative_amount_is_refused_naming_the_amount(long amount)
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => RedeemAsync(host, shop, voucher.Code, amount));

        Assert.Contains("amount", error.Errors.Keys);
        Assert.Equal(5000, (await host.VoucherAsync(voucher.Id)).Balance);
        Assert.Equal(0, await host.QueryAsync(db => db.Redemptions.CountAsync()));
    }

    [Fact]
    public async Task Fifty_parallel_redemptions_of_one_single_use_voucher_let_exactly_one_succeed()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        var outcomes = await RaceAsync(50, i => RedeemAsync(host, shop, voucher.DisplayCode, key: $"till-{i}"));

        var winner = Assert.Single(outcomes, o => o.Succeeded);
        Assert.Equal(5000, winner.Value!.Amount.Amount);
        var losers = outcomes.Where(o => !o.Succeeded).ToList();
        Assert.Equal(49, losers.Count);
        Assert.All(losers, o => Assert.Equal("voucher.already_redeemed", Assert.IsType<ConflictException>(o.Error).Code));
        var redemption = await host.QueryAsync(db => db.Redemptions.SingleAsync());
        Assert.Equal(winner.Value.RedemptionId, redemption.Id);
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Redeemed);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Redeemed, after.Status);
        Assert.Equal(0, after.Balance);
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(shop.MerchantId)));
    }

    [Fact]
    public async Task Twenty_parallel_partial_redemptions_never_overdraw_a_stored_value_voucher()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        // 300..700 each: together far more than the 5000 on the voucher.
        var outcomes = await RaceAsync(20, i => RedeemAsync(host, shop, voucher.Code, 300 + ((i % 5) * 100), $"till-{i}"));

        var after = await host.VoucherAsync(voucher.Id);
        var succeeded = outcomes.Where(o => o.Succeeded).Select(o => o.Value!).ToList();
        Assert.InRange(after.Balance, 0, 5000);
        Assert.Equal(5000 - after.Balance, succeeded.Sum(r => r.Amount.Amount));
        Assert.NotEmpty(succeeded);
        Assert.All(outcomes.Where(o => !o.Succeeded), o =>
            Assert.Contains(Assert.IsType<ConflictException>(o.Error).Code, new[] { "voucher.insufficient_balance", "voucher.already_redeemed" }));

        // Every receipt's balance-after is a distinct step of one consistent chain.
        var chain = succeeded.OrderByDescending(r => r.BalanceAfter.Amount).ToList();
        var balance = 5000L;
        foreach (var receipt in chain)
        {
            balance -= receipt.Amount.Amount;
            Assert.Equal(balance, receipt.BalanceAfter.Amount);
        }

        Assert.Equal(after.Balance, balance);
        var redemptions = await host.QueryAsync(db => db.Redemptions.Where(r => r.VoucherId == voucher.Id).ToListAsync());
        Assert.Equal(succeeded.Count, redemptions.Count);
        Assert.Equal(succeeded.Count, (await ActivitiesAsync(host, voucher.Id)).Count(a => a.Kind == VoucherActivityKind.Redeemed));
        Assert.Equal(after.Balance == 0 ? VoucherStatus.Redeemed : VoucherStatus.Active, after.Status);
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(shop.MerchantId)));
    }

    [Fact]
    public async Task Repeating_an_idempotency_key_returns_the_first_receipt()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var first = await RedeemAsync(host, shop, voucher.Code, 1200, "till-1/receipt-77");
        host.Time.Advance(TimeSpan.FromMinutes(1));

        var again = await RedeemAsync(host, shop, voucher.DisplayCode.ToLowerInvariant(), 1200, "till-1/receipt-77");
        var withoutAmount = await RedeemAsync(host, shop, voucher.Code, null, "till-1/receipt-77");

        Assert.False(first.Replayed);
        Assert.True(again.Replayed);
        Assert.True(withoutAmount.Replayed);
        Assert.Equal(first with { Replayed = true }, again);
        Assert.Equal(first with { Replayed = true }, withoutAmount);
        Assert.Equal(3800, (await host.VoucherAsync(voucher.Id)).Balance);
        Assert.Equal(1, await host.QueryAsync(db => db.Redemptions.CountAsync()));
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Redeemed);
    }

    [Fact]
    public async Task Parallel_retries_with_one_idempotency_key_all_answer_with_the_one_receipt()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        // A till that times out and retries the same request while the first one is still running.
        var outcomes = await RaceAsync(10, _ => RedeemAsync(host, shop, voucher.Code, null, "till-9/receipt-1"));

        Assert.All(outcomes, o => Assert.Null(o.Error));
        var redemption = await host.QueryAsync(db => db.Redemptions.SingleAsync());
        Assert.All(outcomes, o => Assert.Equal(redemption.Id, o.Value!.RedemptionId));
        Assert.Single(outcomes, o => !o.Value!.Replayed);
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Redeemed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("key\nwith-a-newline")]
    public async Task A_redemption_without_a_usable_idempotency_key_is_refused(string key)
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => RedeemAsync(host, shop, voucher.Code, null, key));
        var tooLong = await Assert.ThrowsAsync<ValidationFailedException>(() => RedeemAsync(host, shop, voucher.Code, null, new string('k', 129)));

        Assert.Contains("idempotencyKey", error.Errors.Keys);
        Assert.Contains("idempotencyKey", tooLong.Errors.Keys);
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(voucher.Id)).Status);
    }

    [Fact]
    public async Task Reusing_an_idempotency_key_for_another_voucher_or_amount_is_refused()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, shop.Campaign.Id, 2);
        await RedeemAsync(host, shop, vouchers[0].Code, 1000, "key-1");

        await Assert.ThrowsAsync<IdempotencyConflictException>(() => RedeemAsync(host, shop, vouchers[1].Code, 1000, "key-1"));
        await Assert.ThrowsAsync<IdempotencyConflictException>(() => RedeemAsync(host, shop, vouchers[0].Code, 2000, "key-1"));

        Assert.Equal(4000, (await host.VoucherAsync(vouchers[0].Id)).Balance);
        Assert.Equal(5000, (await host.VoucherAsync(vouchers[1].Id)).Balance);
        Assert.Equal(1, await host.QueryAsync(db => db.Redemptions.CountAsync()));
    }

    [Fact]
    public async Task Staff_of_another_merchant_are_told_the_code_does_not_exist_exactly_like_an_unknown_code()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var rival = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        var foreign = await Assert.ThrowsAsync<NotFoundException>(() => RedeemAsync(host, rival, voucher.DisplayCode));
        var unknown = await Assert.ThrowsAsync<NotFoundException>(() => RedeemAsync(host, rival, VoucherCode.Generate()));
        var foreignPreview = await Assert.ThrowsAsync<NotFoundException>(() =>
            host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(rival.Staff, rival.MerchantId, voucher.Code)));
        var unknownPreview = await Assert.ThrowsAsync<NotFoundException>(() =>
            host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(rival.Staff, rival.MerchantId, VoucherCode.Generate())));

        Assert.Equal((unknown.Code, unknown.Message), (foreign.Code, foreign.Message));
        Assert.Equal((unknownPreview.Code, unknownPreview.Message), (foreignPreview.Code, foreignPreview.Message));
        Assert.Equal((unknown.Code, unknown.Message), (foreignPreview.Code, foreignPreview.Message));
        Assert.Equal(RedemptionService.NotRedeemableHere, foreign.Message);

        // Staff of one merchant cannot act for the other merchant either.
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(rival.Staff, shop.MerchantId, voucher.Code, null, "k")));
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Active, after.Status);
        Assert.Equal(5000, after.Balance);
        Assert.Equal(0, await host.QueryAsync(db => db.Redemptions.CountAsync()));
    }

    [Fact]
    public async Task A_customer_or_an_operator_cannot_redeem()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var customer = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);

        foreach (var actor in new[] { customer, Actor.Admin(Guid.NewGuid()), Actor.System, Actor.Member(Guid.NewGuid()) })
        {
            await Assert.ThrowsAsync<ForbiddenException>(() =>
                host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(actor, shop.MerchantId, voucher.Code, null, Guid.NewGuid().ToString())));
            await Assert.ThrowsAsync<ForbiddenException>(() =>
                host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(actor, shop.MerchantId, voucher.Code)));
        }

        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Active, after.Status);
        Assert.Equal(0, await host.QueryAsync(db => db.Redemptions.CountAsync()));

        // The owner of the merchant may redeem (positive control).
        var receipt = await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(shop.Owner, shop.MerchantId, voucher.Code, null, "owner-key"));
        Assert.Equal(voucher.Id, receipt.VoucherId);
    }

    [Fact]
    public async Task Every_single_mistyped_symbol_is_caught_by_the_check_symbol_and_named_as_the_code()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        await using var scope = host.Services.CreateAsyncScope();
        var redemptions = scope.ServiceProvider.GetRequiredService<RedemptionService>();

        var tried = 0;
        for (var position = 0; position < voucher.Code.Length; position++)
        {
            foreach (var symbol in VoucherCode.Alphabet.Where(c => c != voucher.Code[position]))
            {
                var typo = Substitute(voucher.Code, position, symbol);
                var error = await Assert.ThrowsAsync<ValidationFailedException>(() => redemptions.PreviewAsync(shop.Staff, shop.MerchantId, typo));
                Assert.Equal("code", Assert.Single(error.Errors.Keys));
                tried++;
            }
        }

        Assert.Equal(VoucherCode.Length * 31, tried);
        var redeem = await Assert.ThrowsAsync<ValidationFailedException>(() =>
            RedeemAsync(host, shop, Substitute(voucher.Code, 3, voucher.Code[3] == 'A' ? 'B' : 'A')));
        Assert.Equal("code", Assert.Single(redeem.Errors.Keys));
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(voucher.Id)).Status);
    }

    [Fact]
    public async Task Two_swapped_neighbours_are_caught_by_the_check_symbol()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, TestHost.Definition(supply: 200));
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, shop.Campaign.Id, 10);

        var swaps = 0;
        foreach (var voucher in vouchers)
        {
            for (var position = 0; position < voucher.Code.Length - 1; position++)
            {
                var (a, b) = (voucher.Code[position], voucher.Code[position + 1]);

                if (a == b)
                {
                    continue;
                }

                var typo = SwapNeighbours(voucher.Code, position);
                var error = await Assert.ThrowsAsync<ValidationFailedException>(() =>
                    host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(shop.Staff, shop.MerchantId, typo, null, Guid.NewGuid().ToString())));
                Assert.Equal("code", Assert.Single(error.Errors.Keys));
                swaps++;
            }
        }

        Assert.True(swaps > 150, $"only {swaps} swaps tried");
        Assert.Equal(0, await host.QueryAsync(db => db.Redemptions.CountAsync()));
    }

    [Fact]
    public async Task Lower_case_separators_and_look_alike_letters_still_find_the_voucher()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, TestHost.Definition(supply: 1000));
        var customer = await host.CreateCustomerAsync();

        // A code with both a 0 and a 1 in it, so that O-for-0 and I/L-for-1 are really exercised.
        Voucher? voucher = null;
        for (var round = 0; round < 10 && voucher is null; round++)
        {
            voucher = (await host.BuyAsync(customer, shop.Campaign.Id, 20)).Vouchers.FirstOrDefault(v => v.Code.Contains('0', StringComparison.Ordinal) && v.Code.Contains('1', StringComparison.Ordinal));
        }

        Assert.NotNull(voucher);
        var typed = " " + voucher.DisplayCode.ToLowerInvariant().Replace('0', 'o').Replace("-", " - ", StringComparison.Ordinal) + "\t";
        var firstOne = typed.IndexOf('1', StringComparison.Ordinal);
        typed = string.Concat(typed.AsSpan(0, firstOne), "I", typed.AsSpan(firstOne + 1)).Replace('1', 'l');
        Assert.DoesNotContain('0', typed);
        Assert.DoesNotContain('1', typed);

        var preview = await host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(shop.Staff, shop.MerchantId, typed));
        var receipt = await RedeemAsync(host, shop, typed);

        Assert.Equal(voucher.Id, preview.VoucherId);
        Assert.Equal(voucher.Id, receipt.VoucherId);
        Assert.Equal(VoucherStatus.Redeemed, (await host.VoucherAsync(voucher.Id)).Status);
    }

    [Fact]
    public async Task The_same_merchant_reverses_a_redemption_within_the_window()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var receipt = await RedeemAsync(host, shop, voucher.Code);
        host.Time.Advance(Window(host) - TimeSpan.FromSeconds(1));

        var reversed = await host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(shop.Staff, shop.MerchantId, receipt.RedemptionId));

        Assert.Equal(VoucherStatus.Active, reversed.Status);
        Assert.Equal(5000, reversed.Balance);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Active, after.Status);
        Assert.Equal(5000, after.Balance);
        var last = (await ActivitiesAsync(host, voucher.Id))[^1];
        Assert.Equal(VoucherActivityKind.RedemptionReversed, last.Kind);
        Assert.Equal(5000, last.Amount);
        Assert.Equal(5000, last.BalanceAfter);
        Assert.Equal(receipt.RedemptionId, last.ReferenceId);
        Assert.NotNull((await host.QueryAsync(db => db.Redemptions.SingleAsync())).ReversedAt);
        var books = (await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(shop.Owner, shop.MerchantId))).Single();
        Assert.Equal(0, books.Redeemed);
        Assert.Equal(5000, books.OutstandingLiability);
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(shop.MerchantId)));

        // The voucher can be redeemed again afterwards.
        var again = await RedeemAsync(host, shop, voucher.Code);
        Assert.NotEqual(receipt.RedemptionId, again.RedemptionId);
    }

    [Fact]
    public async Task A_partial_redemption_reversed_restores_only_its_amount()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var first = await RedeemAsync(host, shop, voucher.Code, 1000);
        await RedeemAsync(host, shop, voucher.Code, 4000);
        Assert.Equal(VoucherStatus.Redeemed, (await host.VoucherAsync(voucher.Id)).Status);

        await host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(shop.Staff, shop.MerchantId, first.RedemptionId));

        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(1000, after.Balance);
        Assert.Equal(VoucherStatus.Active, after.Status);
    }

    [Fact]
    public async Task A_redemption_cannot_be_reversed_after_the_window()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var receipt = await RedeemAsync(host, shop, voucher.Code);
        host.Time.Advance(Window(host) + TimeSpan.FromTicks(1));

        var error = await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(shop.Staff, shop.MerchantId, receipt.RedemptionId)));

        Assert.Equal("redemption.window_closed", error.Code);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Redeemed, after.Status);
        Assert.Equal(0, after.Balance);
        Assert.DoesNotContain(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.RedemptionReversed);
        Assert.Null((await host.QueryAsync(db => db.Redemptions.SingleAsync())).ReversedAt);
    }

    [Fact]
    public async Task A_redemption_cannot_be_reversed_twice()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var receipt = await RedeemAsync(host, shop, voucher.Code, 2000);
        await host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(shop.Staff, shop.MerchantId, receipt.RedemptionId));

        var error = await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(shop.Owner, shop.MerchantId, receipt.RedemptionId)));

        Assert.Equal("redemption.already_reversed", error.Code);
        Assert.Equal(5000, (await host.VoucherAsync(voucher.Id)).Balance);
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.RedemptionReversed);
    }

    [Fact]
    public async Task Parallel_reversals_of_one_redemption_restore_the_balance_once()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var receipt = await RedeemAsync(host, shop, voucher.Code, 2000);

        var outcomes = await RaceAsync(10, _ => host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(shop.Staff, shop.MerchantId, receipt.RedemptionId)));

        Assert.Single(outcomes, o => o.Succeeded);
        Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.Equal("redemption.already_reversed", o.Error!.Code));
        Assert.Equal(5000, (await host.VoucherAsync(voucher.Id)).Balance);
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.RedemptionReversed);
    }

    [Fact]
    public async Task Another_merchant_cannot_reverse_a_redemption()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var rival = await OpenShopAsync(host);
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        var receipt = await RedeemAsync(host, shop, voucher.Code);

        await Assert.ThrowsAsync<NotFoundException>(() =>
            host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(rival.Staff, rival.MerchantId, receipt.RedemptionId)));
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(rival.Staff, shop.MerchantId, receipt.RedemptionId)));
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(Actor.Admin(Guid.NewGuid()), shop.MerchantId, receipt.RedemptionId)));

        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Redeemed, after.Status);
        Assert.Equal(0, after.Balance);
        Assert.Null((await host.QueryAsync(db => db.Redemptions.SingleAsync())).ReversedAt);
    }

    [Fact]
    public async Task An_expired_voucher_cannot_be_redeemed_even_before_the_expiry_job_ran()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        host.Time.SetUtcNow(voucher.ExpiresAt - TimeSpan.FromTicks(1));
        await RedeemAsync(host, shop, voucher.Code, 1000);
        host.Time.SetUtcNow(voucher.ExpiresAt);

        var redeem = await Assert.ThrowsAsync<ConflictException>(() => RedeemAsync(host, shop, voucher.Code, 1000));
        var preview = await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(shop.Staff, shop.MerchantId, voucher.Code)));

        Assert.Equal("voucher.expired", redeem.Code);
        Assert.Equal("voucher.expired", preview.Code);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Active, after.Status); // the job has not run yet
        Assert.Equal(4000, after.Balance);
        Assert.Equal(1, await host.QueryAsync(db => db.Redemptions.CountAsync()));
    }

    private static TimeSpan Window(TestHost host) => host.Services.GetRequiredService<IOptions<OpenMavnOptions>>().Value.RedemptionReversalWindow;
}
