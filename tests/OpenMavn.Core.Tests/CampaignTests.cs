using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;

namespace OpenMavn.Core.Tests;

public sealed class CampaignTests
{
    private static readonly Actor Admin = Actor.Admin(Guid.NewGuid());

    public static TheoryData<string, string> InvalidDefinitions => new()
    {
        { "no texts", "texts" },
        { "blank name", "texts[0].name" },
        { "name too long", "texts[0].name" },
        { "bad text language", "texts[0].language" },
        { "duplicate language", "texts[1].language" },
        { "non-http image", "texts[0].imageUrl" },
        { "default language without text", "defaultLanguage" },
        { "currency XYZ", "currency" },
        { "face value 0", "faceValue" },
        { "face value too large", "faceValue" },
        { "price above face value", "price" },
        { "negative price", "price" },
        { "supply 0", "supply" },
        { "per-customer limit above supply", "perCustomerLimit" },
        { "per-customer limit 0", "perCustomerLimit" },
        { "sales end equals start", "salesEndAt" },
        { "sales end before start", "salesEndAt" },
        { "fixed date without validUntil", "validUntil" },
        { "fixed date with validity days", "validityDays" },
        { "fixed date ending before the sales window", "validUntil" },
        { "days after purchase without validityDays", "validityDays" },
        { "days after purchase with 0 days", "validityDays" },
        { "days after purchase with validUntil", "validUntil" },
        { "unknown kind", "kind" },
    };

    [Theory]
    [MemberData(nameof(InvalidDefinitions))]
    public async Task An_invalid_definition_names_exactly_the_bad_field_and_writes_nothing(string @case, string field)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var definition = Invalid(@case);

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, definition)));

        Assert.Equal([field], error.Errors.Keys);
        Assert.Equal(0, await host.QueryAsync(db => db.Campaigns.CountAsync()));
    }

    [Fact]
    public async Task Several_bad_fields_are_named_together_in_one_error()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var definition = TestHost.Definition(faceValue: 0, price: -1, supply: 0, currency: "XYZ") with
        {
            Texts = [new CampaignText("de", "")],
            SalesStartAt = TestHost.Start.AddDays(2),
            SalesEndAt = TestHost.Start.AddDays(1),
            ValidityDays = null,
        };

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, definition)));

        Assert.Equal(
            ["currency", "faceValue", "price", "salesEndAt", "supply", "texts[0].name", "validityDays"],
            error.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_valid_definition_is_stored_normalized_as_a_draft()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var start = new DateTimeOffset(2026, 3, 10, 8, 0, 0, TimeSpan.FromHours(1));
        var definition = TestHost.Definition(currency: "chf") with
        {
            Texts = [new CampaignText("DE-ch", "  Kaffee  ", "Beschreibung", "https://img.example.ch/k.png")],
            DefaultLanguage = "de",
            PerCustomerLimit = 4,
            SalesStartAt = start,
        };

        var created = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, definition));
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(created.Id));

        Assert.Equal(CampaignState.Draft, campaign.State);
        Assert.Equal(merchantId, campaign.MerchantId);
        Assert.Equal("CHF", campaign.Currency);
        Assert.Equal(new Money(5000, "CHF"), campaign.FaceValueMoney);
        Assert.Equal(new Money(4500, "CHF"), campaign.PriceMoney);
        Assert.Equal((100, 0, 0, 4), (campaign.Supply, campaign.Reserved, campaign.Issued, campaign.PerCustomerLimit!.Value));
        Assert.Equal(start, campaign.SalesStartAt);
        Assert.Equal(TimeSpan.Zero, campaign.SalesStartAt!.Value.Offset);
        var text = Assert.Single(campaign.Translations);
        Assert.Equal(("de", "Kaffee", "Beschreibung"), (text.Language, text.Name, text.Description));
        Assert.Null(campaign.TermsFrozenAt);
        Assert.DoesNotContain(await host.RunAsync<CampaignService, IReadOnlyList<Campaign>>(s => s.ListOnSaleAsync()), c => c.Id == campaign.Id);
    }

    [Fact]
    public async Task Localized_texts_fall_back_to_the_default_language_and_ignore_the_region()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var definition = TestHost.Definition() with
        {
            Texts = [new CampaignText("de", "Kaffee-Gutschein"), new CampaignText("it", "Buono caffè"), new CampaignText("en", "Coffee voucher")],
            DefaultLanguage = "en",
        };

        var created = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, definition));
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(created.Id));

        Assert.Equal("Coffee voucher", campaign.Localize("fr").Name); // the default, not the first text
        Assert.Equal("Coffee voucher", campaign.Localize(null).Name);
        Assert.Equal("Coffee voucher", campaign.Localize("").Name);
        Assert.Equal("Kaffee-Gutschein", campaign.Localize("de").Name);
        Assert.Equal("Kaffee-Gutschein", campaign.Localize("de-CH").Name);
        Assert.Equal("Kaffee-Gutschein", campaign.Localize("DE_ch").Name);
        Assert.Equal("Buono caffè", campaign.Localize("it-CH").Name);
        Assert.Equal("Coffee voucher", campaign.Localize(" EN-us ").Name);
    }

    [Fact]
    public async Task Updating_texts_replaces_languages_that_are_gone()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var created = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));

        await host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, created.Id, TestHost.Definition() with
        {
            Texts = [new CampaignText("fr", "Bon café"), new CampaignText("de", "Kaffee")],
            DefaultLanguage = "fr",
        }));

        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(created.Id));
        Assert.Equal(["de", "fr"], campaign.Translations.Select(t => t.Language).Order(StringComparer.Ordinal));
        Assert.Equal("Bon café", campaign.Localize("en").Name);
        Assert.Equal(2, await host.QueryAsync(db => db.Set<CampaignTranslation>().CountAsync()));
    }

    [Fact]
    public async Task Publishing_needs_an_approved_merchant()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "sandbox", "acct", "sk_test"));
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));

        await host.AssertCampaignConflictAsync("merchant.not_approved", s => s.PublishAsync(owner, campaign.Id)); // Pending
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.AssertCampaignConflictAsync("merchant.not_approved", s => s.PublishAsync(owner, campaign.Id)); // InReview
        await host.RunAsync<MerchantService>(s => s.RequestDataAsync(Admin, merchantId, "more"));
        await host.AssertCampaignConflictAsync("merchant.not_approved", s => s.PublishAsync(owner, campaign.Id)); // RequiresData
        Assert.Equal(CampaignState.Draft, await host.StateAsync(campaign.Id));

        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.RunAsync<MerchantService>(s => s.ApproveAsync(Admin, merchantId));
        await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Published, await host.StateAsync(campaign.Id));
    }

    [Fact]
    public async Task A_rejected_merchant_cannot_publish()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "sandbox", "acct", "sk_test"));
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.RunAsync<MerchantService>(s => s.RejectAsync(Admin, merchantId, "no"));
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));

        await host.AssertCampaignConflictAsync("merchant.not_approved", s => s.PublishAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Draft, await host.StateAsync(campaign.Id));
    }

    [Fact]
    public async Task Publishing_needs_a_connected_payment_account()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.RunAsync<MerchantService>(s => s.ApproveAsync(Admin, merchantId));
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));

        await host.AssertCampaignConflictAsync("merchant.no_payment_account", s => s.PublishAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Draft, await host.StateAsync(campaign.Id));

        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "sandbox", "acct", "sk_test"));
        await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Published, await host.StateAsync(campaign.Id));
    }

    [Fact]
    public async Task A_campaign_goes_draft_published_paused_published_ended_and_is_on_sale_only_while_published()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));
        var customer = await host.CreateCustomerAsync();

        Assert.False(await host.OnSaleAsync(campaign.Id));
        await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Published, await host.StateAsync(campaign.Id));
        Assert.True(await host.OnSaleAsync(campaign.Id));

        await host.RunAsync<CampaignService>(s => s.PauseAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Paused, await host.StateAsync(campaign.Id));
        Assert.False(await host.OnSaleAsync(campaign.Id));
        var paused = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id));
        Assert.Equal("campaign.not_on_sale", paused.Code);

        await host.RunAsync<CampaignService>(s => s.ResumeAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Published, await host.StateAsync(campaign.Id));
        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id);
        Assert.Single(vouchers);

        await host.RunAsync<CampaignService>(s => s.EndAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Ended, await host.StateAsync(campaign.Id));
        Assert.False(await host.OnSaleAsync(campaign.Id));
        var ended = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id));
        Assert.Equal("campaign.not_on_sale", ended.Code);
        Assert.Equal(Vouchers.VoucherStatus.Active, (await host.VoucherAsync(vouchers[0].Id)).Status); // sold vouchers stay valid
    }

    [Fact]
    public async Task Illegal_lifecycle_transitions_are_conflicts_and_change_nothing()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));

        await host.AssertCampaignConflictAsync("campaign.state", s => s.PauseAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.ResumeAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.EndAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Draft, await host.StateAsync(campaign.Id));

        await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.PublishAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.ResumeAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Published, await host.StateAsync(campaign.Id));

        await host.RunAsync<CampaignService>(s => s.PauseAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.PauseAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.PublishAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Paused, await host.StateAsync(campaign.Id));

        await host.RunAsync<CampaignService>(s => s.EndAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.PublishAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.PauseAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.ResumeAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.state", s => s.EndAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.closed", s => s.CancelAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.closed", s => s.UpdateAsync(owner, campaign.Id, TestHost.Definition()));
        Assert.Equal(CampaignState.Ended, await host.StateAsync(campaign.Id));
    }

    [Fact]
    public async Task A_campaign_without_sales_can_be_cancelled_from_draft_published_or_paused()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var draft = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));
        var published = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var paused = await host.CreatePublishedCampaignAsync(owner, merchantId);
        await host.RunAsync<CampaignService>(s => s.PauseAsync(owner, paused.Id));

        foreach (var id in new[] { draft.Id, published.Id, paused.Id })
        {
            await host.RunAsync<CampaignService>(s => s.CancelAsync(owner, id));
            Assert.Equal(CampaignState.Cancelled, await host.StateAsync(id));
            await host.AssertCampaignConflictAsync("campaign.closed", s => s.CancelAsync(owner, id));
            await host.AssertCampaignConflictAsync("campaign.state", s => s.PublishAsync(owner, id));
            await host.AssertCampaignConflictAsync("campaign.state", s => s.ResumeAsync(owner, id));
        }

        var customer = await host.CreateCustomerAsync();
        var error = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, published.Id));
        Assert.Equal("campaign.not_on_sale", error.Code);
    }

    [Fact]
    public async Task Cancelling_is_refused_once_a_voucher_is_reserved()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id);
        Assert.Equal(OrderStatus.PendingPayment, order.Status);

        await host.AssertCampaignConflictAsync("campaign.has_sales", s => s.CancelAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Published, await host.StateAsync(campaign.Id));

        // Paid, and even after pausing: still refused (end it instead).
        await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
        await host.RunAsync<CampaignService>(s => s.PauseAsync(owner, campaign.Id));
        await host.AssertCampaignConflictAsync("campaign.has_sales", s => s.CancelAsync(owner, campaign.Id));
        Assert.Equal(CampaignState.Paused, await host.StateAsync(campaign.Id));
    }

    [Fact]
    public async Task Once_a_lapsed_reservation_returned_its_stock_the_campaign_can_be_cancelled_and_a_late_payment_is_refunded()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();
        var order = await host.OrderAsync(customer, campaign.Id);
        await host.AssertCampaignConflictAsync("campaign.has_sales", s => s.CancelAsync(owner, campaign.Id));

        host.Time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(1, await host.RunAsync<PurchaseService, int>(s => s.ExpireReservationsAsync()));
        await host.RunAsync<CampaignService>(s => s.CancelAsync(owner, campaign.Id));
        var outcome = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!); // the customer still paid

        Assert.Equal(PaymentApplication.RefundQueued, outcome);
        Assert.Equal(CampaignState.Cancelled, await host.StateAsync(campaign.Id));
        Assert.Equal(0, await host.QueryAsync(db => db.Vouchers.CountAsync()));
        var stored = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        Assert.Equal((0, 0), (stored.Reserved, stored.Issued));
        await host.Outbox.DrainAsync();
        var refund = await host.QueryAsync(db => db.Refunds.AsNoTracking().SingleAsync());
        Assert.Equal((Payments.RefundStatus.Completed, 4500L), (refund.Status, refund.Amount));
    }

    [Fact]
    public async Task Cancelling_while_twenty_customers_order_either_cancels_with_nothing_sold_or_is_refused()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customers = new List<Actor>();
        for (var i = 0; i < 20; i++)
        {
            customers.Add(await host.CreateCustomerAsync());
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var orders = customers.Select(c => Task.Run(async () =>
        {
            await gate.Task;
            try
            {
                await host.OrderAsync(c, campaign.Id);
                return true;
            }
            catch (ConflictException ex) when (ex.Code == "campaign.not_on_sale")
            {
                return false;
            }
        })).ToList();
        var cancel = Task.Run(async () =>
        {
            await gate.Task;
            try
            {
                await host.RunAsync<CampaignService>(s => s.CancelAsync(owner, campaign.Id));
                return true;
            }
            catch (ConflictException ex) when (ex.Code == "campaign.has_sales")
            {
                return false;
            }
        });
        gate.SetResult();
        var placed = (await Task.WhenAll(orders)).Count(ok => ok);
        var cancelled = await cancel;

        var stored = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        var holding = await host.QueryAsync(db => db.Orders.CountAsync(o => o.CampaignId == campaign.Id && o.HoldsStock));
        Assert.Equal(placed, stored.Reserved);
        Assert.Equal(placed, holding);
        if (cancelled)
        {
            Assert.Equal(CampaignState.Cancelled, stored.State);
            Assert.Equal(0, placed);
        }
        else
        {
            Assert.Equal(CampaignState.Published, stored.State);
            Assert.Equal(20, placed);
        }
    }

    public static TheoryData<string, string> FrozenChanges => new()
    {
        { "price", "price" },
        { "faceValue", "faceValue" },
        { "currency", "currency" },
        { "kind", "kind" },
        { "validityDays", "validityDays" },
        { "validityKind", "validityKind" },
    };

    [Theory]
    [MemberData(nameof(FrozenChanges))]
    public async Task After_the_first_order_the_terms_buyers_rely_on_are_frozen(string change, string field)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();
        var changed = Changed(change);

        // Before any order the same change is accepted (and reverted), so the refusal below is about the freeze.
        await host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, changed));
        await host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, TestHost.Definition()));
        host.Time.Advance(TimeSpan.FromMinutes(1));
        await host.OrderAsync(customer, campaign.Id);

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, changed)));

        Assert.Contains(field, error.Errors.Keys);
        Assert.Contains("Frozen", error.Errors[field].Single(), StringComparison.Ordinal);
        var stored = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        Assert.Equal(TestHost.Start.AddMinutes(1), stored.TermsFrozenAt);
        Assert.Equal((4500L, 5000L, "CHF", VoucherKind.SingleUse, ValidityKind.DaysAfterPurchase, (int?)365), (stored.Price, stored.FaceValue, stored.Currency, stored.Kind, stored.ValidityKind, stored.ValidityDays));
    }

    [Fact]
    public async Task After_the_first_order_texts_and_supply_may_still_change_but_supply_not_below_what_is_reserved()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();
        await host.BuyAsync(customer, campaign.Id, 2);
        await host.OrderAsync(customer, campaign.Id, 1); // reserved, not paid: 3 held

        var renamed = TestHost.Definition(supply: 250, currency: "chf") with
        {
            Texts = [new CampaignText("de", "Neuer Name", "Neue Beschreibung"), new CampaignText("fr", "Bon café")],
            PerCustomerLimit = 10,
            Transferable = false,
        };
        await host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, renamed));
        var updated = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        Assert.Equal(("Neuer Name", "Neue Beschreibung"), (updated.Localize("de").Name, updated.Localize("de").Description));
        Assert.Equal("Bon café", updated.Localize("fr").Name);
        Assert.Equal("Neuer Name", updated.Localize("en").Name);
        Assert.Equal((250, 3, 10, false), (updated.Supply, updated.Reserved, updated.PerCustomerLimit!.Value, updated.Transferable));

        var below = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, renamed with { Supply = 2, PerCustomerLimit = null })));
        Assert.Equal(["supply"], below.Errors.Keys);
        Assert.Equal(250, (await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id))).Supply);

        await host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, renamed with { Supply = 3, PerCustomerLimit = null }));
        var exact = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        Assert.Equal((3, 0), (exact.Supply, exact.Available));
        var soldOut = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id));
        Assert.Equal("campaign.sold_out", soldOut.Code);
    }

    [Fact]
    public async Task Staff_and_strangers_cannot_create_or_manage_campaigns()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var (otherOwner, _) = await host.CreateApprovedMerchantAsync();
        var staff = Actor.Member(Guid.NewGuid());
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, staff.Id, "staff@sonne.example.ch", MerchantRole.Staff));
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));
        var customer = await host.CreateCustomerAsync();

        foreach (var actor in new[] { staff, otherOwner, customer })
        {
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(actor, merchantId, TestHost.Definition())));
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(actor, campaign.Id, TestHost.Definition(price: 1))));
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService>(s => s.PublishAsync(actor, campaign.Id)));
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService>(s => s.CancelAsync(actor, campaign.Id)));
        }

        await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
        foreach (var actor in new[] { staff, otherOwner, customer })
        {
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService>(s => s.PauseAsync(actor, campaign.Id)));
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService>(s => s.EndAsync(actor, campaign.Id)));
        }

        Assert.Equal(1, await host.QueryAsync(db => db.Campaigns.CountAsync()));
        var stored = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        Assert.Equal((CampaignState.Published, 4500L), (stored.State, stored.Price));
    }

    [Fact]
    public async Task A_price_change_racing_twenty_orders_never_leaves_an_order_at_a_price_the_campaign_no_longer_has()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customers = new List<Actor>();
        for (var i = 0; i < 20; i++)
        {
            customers.Add(await host.CreateCustomerAsync());
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var orders = customers.Select(c => Task.Run(async () =>
        {
            await gate.Task;
            return await host.OrderAsync(c, campaign.Id);
        })).ToList();
        var update = Task.Run(async () =>
        {
            await gate.Task;
            return await host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, TestHost.Definition(price: 3900)));
        });
        gate.SetResult();
        var placed = await Task.WhenAll(orders);
        Exception? updateError = null;
        try
        {
            await update;
        }
        catch (ValidationFailedException ex)
        {
            updateError = ex;
        }

        var stored = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        Assert.Equal(20, stored.Reserved);
        Assert.All(placed, o => Assert.Equal(stored.Price, o.UnitPrice));
        Assert.All(placed, o => Assert.Equal(stored.Price, o.Amount));
        if (updateError is ValidationFailedException refused)
        {
            Assert.Equal(["price"], refused.Errors.Keys);
            Assert.Equal(4500, stored.Price);
        }
        else
        {
            Assert.Equal(3900, stored.Price);
        }

        var payments = await host.QueryAsync(db => db.SandboxPayments.AsNoTracking().Select(p => p.Amount).ToListAsync());
        Assert.Equal(20, payments.Count);
        Assert.All(payments, amount => Assert.Equal(stored.Price, amount));
    }

    [Fact]
    public async Task A_supply_cut_racing_thirty_orders_never_leaves_more_reserved_than_supplied()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customers = new List<Actor>();
        for (var i = 0; i < 30; i++)
        {
            customers.Add(await host.CreateCustomerAsync());
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var orders = customers.Select(c => Task.Run(async () =>
        {
            await gate.Task;
            try
            {
                await host.OrderAsync(c, campaign.Id);
                return true;
            }
            catch (ConflictException ex) when (ex.Code == "campaign.sold_out")
            {
                return false;
            }
        })).ToList();
        var cut = Task.Run(async () =>
        {
            await gate.Task;
            try
            {
                await host.RunAsync<CampaignService, Campaign>(s => s.UpdateAsync(owner, campaign.Id, TestHost.Definition(supply: 10)));
                return true;
            }
            catch (ValidationFailedException ex) when (ex.Errors.ContainsKey("supply"))
            {
                return false;
            }
        });
        gate.SetResult();
        var succeeded = (await Task.WhenAll(orders)).Count(ok => ok);
        var cutApplied = await cut;

        var stored = await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id));
        var held = await host.QueryAsync(db => db.Orders.Where(o => o.CampaignId == campaign.Id && o.HoldsStock).SumAsync(o => o.Quantity));
        Assert.Equal(succeeded, stored.Reserved);
        Assert.Equal(succeeded, held);
        Assert.True(stored.Reserved <= stored.Supply);
        if (cutApplied)
        {
            Assert.Equal(10, stored.Supply);
            Assert.True(succeeded <= 10, $"{succeeded} orders against a supply of 10");
        }
        else
        {
            Assert.Equal(100, stored.Supply);
            Assert.Equal(30, succeeded);
        }
    }

    private static CampaignDefinition Changed(string term) => term switch
    {
        "price" => TestHost.Definition(price: 4000),
        "faceValue" => TestHost.Definition(faceValue: 6000),
        "currency" => TestHost.Definition(currency: "EUR"),
        "kind" => TestHost.Definition(kind: VoucherKind.StoredValue),
        "validityDays" => TestHost.Definition() with { ValidityDays = 30 },
        "validityKind" => TestHost.Definition() with { ValidityKind = ValidityKind.FixedDate, ValidUntil = new DateOnly(2027, 12, 31), ValidityDays = null },
        _ => throw new ArgumentOutOfRangeException(nameof(term)),
    };

    private static CampaignDefinition Invalid(string @case)
    {
        var d = TestHost.Definition();
        var fixedDate = d with { ValidityKind = ValidityKind.FixedDate, ValidUntil = new DateOnly(2026, 12, 31), ValidityDays = null };
        return @case switch
        {
            "no texts" => d with { Texts = [] },
            "blank name" => d with { Texts = [new CampaignText("de", "  ")] },
            "name too long" => d with { Texts = [new CampaignText("de", new string('n', 201))] },
            "bad text language" => d with { Texts = [new CampaignText("deu", "Kaffee"), new CampaignText("de", "Kaffee")] },
            "duplicate language" => d with { Texts = [new CampaignText("de", "Kaffee"), new CampaignText("DE-ch", "Kafi")] },
            "non-http image" => d with { Texts = [new CampaignText("de", "Kaffee", null, "ftp://img.example.ch/k.png")] },
            "default language without text" => d with { DefaultLanguage = "fr" },
            "currency XYZ" => d with { Currency = "XYZ" },
            "face value 0" => TestHost.Definition(faceValue: 0, price: 0),
            "face value too large" => TestHost.Definition(faceValue: CampaignService.MaxFaceValue + 1),
            "price above face value" => TestHost.Definition(faceValue: 5000, price: 5001),
            "negative price" => TestHost.Definition(price: -1),
            "supply 0" => TestHost.Definition(supply: 0),
            "per-customer limit above supply" => TestHost.Definition(supply: 5) with { PerCustomerLimit = 6 },
            "per-customer limit 0" => d with { PerCustomerLimit = 0 },
            "sales end equals start" => d with { SalesStartAt = TestHost.Start.AddDays(1), SalesEndAt = TestHost.Start.AddDays(1) },
            "sales end before start" => d with { SalesStartAt = TestHost.Start.AddDays(2), SalesEndAt = TestHost.Start.AddDays(1) },
            "fixed date without validUntil" => fixedDate with { ValidUntil = null },
            "fixed date with validity days" => fixedDate with { ValidityDays = 30 },
            "fixed date ending before the sales window" => fixedDate with { ValidUntil = new DateOnly(2026, 6, 30), SalesEndAt = new DateTimeOffset(2026, 7, 15, 0, 0, 0, TimeSpan.Zero) },
            "days after purchase without validityDays" => d with { ValidityDays = null },
            "days after purchase with 0 days" => d with { ValidityDays = 0 },
            "days after purchase with validUntil" => d with { ValidUntil = new DateOnly(2026, 12, 31) },
            "unknown kind" => d with { Kind = (VoucherKind)9 },
            _ => throw new ArgumentOutOfRangeException(nameof(@case)),
        };
    }
}

/// <summary>Campaign helpers for the campaign and time-zone tests.</summary>
internal static class CampaignKit
{
    public static Task<CampaignState> StateAsync(this TestHost host, Guid campaignId) =>
        host.QueryAsync(db => db.Campaigns.Where(c => c.Id == campaignId).Select(c => c.State).SingleAsync());

    public static async Task<bool> OnSaleAsync(this TestHost host, Guid campaignId) =>
        (await host.RunAsync<CampaignService, IReadOnlyList<Campaign>>(s => s.ListOnSaleAsync())).Any(c => c.Id == campaignId);

    public static async Task AssertCampaignConflictAsync(this TestHost host, string code, Func<CampaignService, Task> attempt)
    {
        var error = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync(attempt));
        Assert.Equal(code, error.Code);
    }
}
