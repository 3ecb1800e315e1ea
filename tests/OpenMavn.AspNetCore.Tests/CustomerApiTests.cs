using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.AspNetCore.Apis;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;

namespace OpenMavn.AspNetCore.Tests;

/// <summary>The customer (mobile app) API over real HTTP: the whole journey from search to gifts and exchanges.</summary>
public sealed class CustomerApiTests
{
    private static readonly byte[] PngMagic = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Search_finds_the_campaign_by_text_currency_and_distance_and_names_bad_fields()
    {
        await using var host = await ApiHost.StartAsync();
        var shop = await Shop.OpenAsync(host);
        using var anonymous = host.Client();

        Assert.Contains(shop.CampaignId, await SearchAsync(anonymous, "q=kaffee"));
        Assert.Contains(shop.CampaignId, await SearchAsync(anonymous, "q=SONNE")); // the merchant's name
        Assert.DoesNotContain(shop.CampaignId, await SearchAsync(anonymous, "q=sushi"));
        Assert.Contains(shop.CampaignId, await SearchAsync(anonymous, "currency=chf"));
        Assert.DoesNotContain(shop.CampaignId, await SearchAsync(anonymous, "currency=EUR"));
        Assert.Contains(shop.CampaignId, await SearchAsync(anonymous, "lat=47.3800&lon=8.5400&radiusKm=2"));
        Assert.DoesNotContain(shop.CampaignId, await SearchAsync(anonymous, "lat=46.2044&lon=6.1432&radiusKm=50")); // Geneva

        var localized = await anonymous.GetFromJsonAsync<JsonElement>($"/api/campaigns/{shop.CampaignId}?language=en", ApiHost.Json);
        Assert.Equal("Coffee voucher", localized.GetProperty("name").GetString());
        Assert.Equal(4500, localized.GetProperty("price").GetProperty("amount").GetInt64());

        await AssertProblemAsync(await anonymous.GetAsync("/api/campaigns?currency=XYZ"), HttpStatusCode.BadRequest, "validation_failed", "currency");
        await AssertProblemAsync(await anonymous.GetAsync("/api/campaigns?lat=47.38"), HttpStatusCode.BadRequest, "validation_failed", "longitude");
    }

    [Fact]
    public async Task A_customer_buys_idempotently_pays_and_sees_orders_vouchers_history_and_qr_codes()
    {
        await using var host = await ApiHost.StartAsync();
        var shop = await Shop.OpenAsync(host);
        var (client, customerId) = await host.CustomerAsync();
        var key = Guid.NewGuid().ToString();

        var placed = await ApiHost.PostIdempotentAsync(client, "/api/customer/orders", new { campaignId = shop.CampaignId, quantity = 2 }, key);
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        Assert.False(placed.Headers.Contains("Idempotent-Replayed"));
        var order = await placed.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        var orderId = order.GetProperty("id").GetGuid();
        Assert.Equal($"/api/customer/orders/{orderId}", placed.Headers.Location?.OriginalString);
        Assert.Equal("PendingPayment", order.GetProperty("status").GetString());
        Assert.Equal(9000, order.GetProperty("total").GetProperty("amount").GetInt64());

        var replay = await ApiHost.PostIdempotentAsync(client, "/api/customer/orders", new { campaignId = shop.CampaignId, quantity = 2 }, key);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", Assert.Single(replay.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(orderId, (await replay.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("id").GetGuid());

        var reused = await ApiHost.PostIdempotentAsync(client, "/api/customer/orders", new { campaignId = shop.CampaignId, quantity = 3 }, key);
        await AssertProblemAsync(reused, HttpStatusCode.UnprocessableEntity, "idempotency.key_reused");

        var tooMany = await ApiHost.PostIdempotentAsync(client, "/api/customer/orders", new { campaignId = shop.CampaignId, quantity = 0 });
        await AssertProblemAsync(tooMany, HttpStatusCode.BadRequest, "validation_failed", "quantity");

        await PayAsync(host, order.GetProperty("checkoutUrl").GetString()!);

        var paid = await client.GetFromJsonAsync<JsonElement>($"/api/customer/orders/{orderId}", ApiHost.Json);
        Assert.Equal("Paid", paid.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, paid.GetProperty("paidAt").ValueKind);
        var orders = await client.GetFromJsonAsync<JsonElement>("/api/customer/orders?skip=0&take=10", ApiHost.Json);
        Assert.Equal(orderId, Assert.Single(orders.EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/customer/orders?skip=1", ApiHost.Json)).EnumerateArray());

        var listed = await client.GetAsync("/api/customer/vouchers");
        Assert.True(listed.Headers.CacheControl?.NoStore, "A list carrying voucher codes must not be stored.");
        var vouchers = (await listed.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).EnumerateArray().ToList();
        Assert.Equal(2, vouchers.Count);
        Assert.All(vouchers, v => Assert.Equal("Active", v.GetProperty("status").GetString()));
        var voucherId = vouchers[0].GetProperty("id").GetGuid();
        var code = vouchers[0].GetProperty("code").GetString()!;

        var detailResponse = await client.GetAsync($"/api/customer/vouchers/{voucherId}");
        Assert.True(detailResponse.Headers.CacheControl?.NoStore, "A voucher carrying its code must not be stored.");
        var detail = await detailResponse.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        Assert.Equal(code, detail.GetProperty("voucher").GetProperty("code").GetString());
        var issued = Assert.Single(detail.GetProperty("activity").EnumerateArray());
        Assert.Equal("Issued", issued.GetProperty("kind").GetString());
        Assert.Equal(customerId, issued.GetProperty("toOwnerId").GetGuid());
        Assert.Equal(5000, issued.GetProperty("balanceAfter").GetInt64());

        var png = await client.GetAsync($"/api/customer/vouchers/{voucherId}/qr.png");
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.True(png.Headers.CacheControl?.NoStore, png.Headers.CacheControl?.ToString());
        var pngBytes = await png.Content.ReadAsByteArrayAsync();
        Assert.Equal(PngMagic, pngBytes[..8]);
        Assert.Equal(VoucherQr.Png(code.Replace("-", "", StringComparison.Ordinal)), pngBytes); // it encodes this voucher's code

        var svg = await client.GetAsync($"/api/customer/vouchers/{voucherId}/qr.svg");
        Assert.Equal(HttpStatusCode.OK, svg.StatusCode);
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        Assert.True(svg.Headers.CacheControl?.NoStore, svg.Headers.CacheControl?.ToString());
        var svgText = await svg.Content.ReadAsStringAsync();
        Assert.Contains("<svg", svgText, StringComparison.Ordinal);
        Assert.Equal(VoucherQr.Svg(code.Replace("-", "", StringComparison.Ordinal)), svgText);

        // Someone else is told none of it exists.
        var (stranger, _) = await host.CustomerAsync();
        await AssertProblemAsync(await stranger.GetAsync($"/api/customer/vouchers/{voucherId}"), HttpStatusCode.NotFound, "voucher.not_found");
        await AssertProblemAsync(await stranger.GetAsync($"/api/customer/vouchers/{voucherId}/qr.png"), HttpStatusCode.NotFound, "voucher.not_found");
        await AssertProblemAsync(await stranger.GetAsync($"/api/customer/vouchers/{voucherId}/qr.svg"), HttpStatusCode.NotFound, "voucher.not_found");
        await AssertProblemAsync(await stranger.GetAsync($"/api/customer/orders/{orderId}"), HttpStatusCode.NotFound, "order.not_found");
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/customer/orders", ApiHost.Json)).EnumerateArray());
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/customer/vouchers", ApiHost.Json)).EnumerateArray());

        // The stranger's replay of my key is their own, new request: it never returns my order.
        var theirs = await ApiHost.PostIdempotentAsync(stranger, "/api/customer/orders", new { campaignId = shop.CampaignId, quantity = 2 }, key);
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.False(theirs.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(orderId, (await theirs.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("id").GetGuid());

        // Signed out: 401, not a redirect to a login page (these endpoints neither read nor write JSON).
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Address };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/customer/vouchers/{voucherId}/qr.png")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/customer/vouchers/{voucherId}/qr.svg")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/customer/exchanges/{Guid.NewGuid()}/decline", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync($"/api/customer/devices/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task A_gift_to_an_existing_customer_moves_the_voucher_at_once_with_a_fresh_code()
    {
        await using var host = await ApiHost.StartAsync();
        var shop = await Shop.OpenAsync(host);
        var (sender, senderId) = await host.CustomerAsync();
        var friendEmail = $"friend{Guid.NewGuid():N}@example.ch";
        var (friend, friendId) = await host.SignUpAsync(friendEmail);
        Assert.Equal(HttpStatusCode.OK, (await friend.PutAsJsonAsync("/api/customer/profile", new { displayName = "Friend", language = "de" })).StatusCode);
        var voucher = Assert.Single(await BuyAsync(host, sender, shop.CampaignId, 1));
        var voucherId = voucher.GetProperty("id").GetGuid();
        var oldCode = voucher.GetProperty("code").GetString();

        var key = Guid.NewGuid().ToString();
        var body = new { recipientEmail = friendEmail.ToUpperInvariant(), message = "Happy birthday!", deliverAt = (DateTimeOffset?)null };
        var sent = await ApiHost.PostIdempotentAsync(sender, $"/api/customer/vouchers/{voucherId}/gift", body, key);
        Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        var gift = await sent.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        var giftId = gift.GetProperty("id").GetGuid();
        Assert.Equal("Completed", gift.GetProperty("status").GetString());
        Assert.Equal(friendId, gift.GetProperty("recipientId").GetGuid());
        Assert.Equal(friendEmail, gift.GetProperty("recipientEmail").GetString());
        Assert.False(gift.TryGetProperty("claimTokenHash", out _));

        var replay = await ApiHost.PostIdempotentAsync(sender, $"/api/customer/vouchers/{voucherId}/gift", body, key);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", Assert.Single(replay.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(giftId, (await replay.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("id").GetGuid());

        // The friend holds it under a new code; the sender's copy of the old one is worthless and the voucher is gone for them.
        var received = (await friend.GetFromJsonAsync<JsonElement>($"/api/customer/vouchers/{voucherId}", ApiHost.Json)).GetProperty("voucher");
        Assert.Equal("Active", received.GetProperty("status").GetString());
        Assert.NotEqual(oldCode, received.GetProperty("code").GetString());
        Assert.Empty((await sender.GetFromJsonAsync<JsonElement>("/api/customer/vouchers", ApiHost.Json)).EnumerateArray());
        await AssertProblemAsync(await sender.GetAsync($"/api/customer/vouchers/{voucherId}/qr.png"), HttpStatusCode.NotFound, "voucher.not_found");

        var sendersGifts = await sender.GetFromJsonAsync<JsonElement>("/api/customer/gifts", ApiHost.Json);
        Assert.Equal(giftId, Assert.Single(sendersGifts.EnumerateArray()).GetProperty("id").GetGuid());
        var friendsGifts = await friend.GetFromJsonAsync<JsonElement>("/api/customer/gifts", ApiHost.Json);
        var theirs = Assert.Single(friendsGifts.EnumerateArray());
        Assert.Equal(senderId, theirs.GetProperty("senderId").GetGuid());
        Assert.Equal("Happy birthday!", theirs.GetProperty("message").GetString());

        // A completed gift cannot be taken back, and only its sender may try.
        await AssertProblemAsync(await friend.PostAsync($"/api/customer/gifts/{giftId}/cancel", null), HttpStatusCode.NotFound, "gift.not_found");
        await AssertProblemAsync(await sender.PostAsync($"/api/customer/gifts/{giftId}/cancel", null), HttpStatusCode.Conflict, "gift.closed");
    }

    [Fact]
    public async Task Gifts_name_bad_fields_claims_need_a_valid_token_and_a_pending_gift_can_be_cancelled_by_its_sender_only()
    {
        await using var host = await ApiHost.StartAsync();
        var shop = await Shop.OpenAsync(host);
        var (sender, _) = await host.CustomerAsync();
        var (stranger, _) = await host.CustomerAsync();
        var voucherId = Assert.Single(await BuyAsync(host, sender, shop.CampaignId, 1)).GetProperty("id").GetGuid();
        var url = $"/api/customer/vouchers/{voucherId}/gift";

        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(sender, url, new { recipientEmail = "not an email" }), HttpStatusCode.BadRequest, "validation_failed", "recipientEmail");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(sender, url, new { recipientEmail = "a@example.ch", deliverAt = DateTimeOffset.UtcNow.AddYears(2) }), HttpStatusCode.BadRequest, "validation_failed", "deliverAt");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(sender, url, new { recipientEmail = "a@example.ch", message = new string('x', 1001) }), HttpStatusCode.BadRequest, "validation_failed", "message");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(stranger, url, new { recipientEmail = "a@example.ch" }), HttpStatusCode.NotFound, "voucher.not_found");
        var noKey = await sender.PostAsJsonAsync(url, new { recipientEmail = "a@example.ch" });
        await AssertProblemAsync(noKey, HttpStatusCode.BadRequest, "request.malformed");
        Assert.False((await VoucherAsync(sender, voucherId)).GetProperty("giftPending").GetBoolean());

        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(stranger, "/api/customer/gifts/claim", new { token = "no-such-token" }), HttpStatusCode.NotFound, "gift.not_found");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(stranger, "/api/customer/gifts/claim", new { token = " " }), HttpStatusCode.BadRequest, "validation_failed", "token");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(stranger, "/api/customer/gifts/claim", new { }), HttpStatusCode.BadRequest, "validation_failed", "token");

        // To someone without an account: the gift waits for its claim and holds the voucher.
        var sent = await ApiHost.PostIdempotentAsync(sender, url, new { recipientEmail = $"new{Guid.NewGuid():N}@example.ch", message = "For you" });
        Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        var gift = await sent.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        var giftId = gift.GetProperty("id").GetGuid();
        Assert.Equal("AwaitingClaim", gift.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, gift.GetProperty("recipientId").ValueKind);
        Assert.True((await VoucherAsync(sender, voucherId)).GetProperty("giftPending").GetBoolean());
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(sender, url, new { recipientEmail = "other@example.ch" }), HttpStatusCode.Conflict, "voucher.gift_pending");

        await AssertProblemAsync(await stranger.PostAsync($"/api/customer/gifts/{giftId}/cancel", null), HttpStatusCode.NotFound, "gift.not_found");
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/customer/gifts", ApiHost.Json)).EnumerateArray());

        Assert.Equal(HttpStatusCode.NoContent, (await sender.PostAsync($"/api/customer/gifts/{giftId}/cancel", null)).StatusCode);
        Assert.False((await VoucherAsync(sender, voucherId)).GetProperty("giftPending").GetBoolean());
        var listed = Assert.Single((await sender.GetFromJsonAsync<JsonElement>("/api/customer/gifts", ApiHost.Json)).EnumerateArray());
        Assert.Equal("Cancelled", listed.GetProperty("status").GetString());
        await AssertProblemAsync(await sender.PostAsync($"/api/customer/gifts/{giftId}/cancel", null), HttpStatusCode.Conflict, "gift.closed");
        await AssertProblemAsync(await sender.PostAsync($"/api/customer/gifts/{Guid.NewGuid()}/cancel", null), HttpStatusCode.NotFound, "gift.not_found");
    }

    [Fact]
    public async Task Two_customers_exchange_vouchers_and_a_third_cannot_touch_the_offer()
    {
        await using var host = await ApiHost.StartAsync();
        var shop = await Shop.OpenAsync(host);
        var second = await Shop.CampaignAsync(host, shop, "Gipfeli-Gutschein");
        var (alice, aliceId) = await host.CustomerAsync();
        var (bob, bobId) = await host.CustomerAsync();
        var (carol, _) = await host.CustomerAsync();
        var x = Assert.Single(await BuyAsync(host, alice, shop.CampaignId, 1)).GetProperty("id").GetGuid();
        var y = Assert.Single(await BuyAsync(host, bob, second, 1)).GetProperty("id").GetGuid();
        var bobsOldCode = (await VoucherAsync(bob, y)).GetProperty("code").GetString();

        var key = Guid.NewGuid().ToString();
        var made = await ApiHost.PostIdempotentAsync(alice, "/api/customer/exchanges", new { offeredVoucherId = x, requestedVoucherId = y }, key);
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        var offer = await made.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        var offerId = offer.GetProperty("id").GetGuid();
        Assert.Equal("Open", offer.GetProperty("status").GetString());
        Assert.Equal(bobId, offer.GetProperty("counterpartyId").GetGuid());
        var again = await ApiHost.PostIdempotentAsync(alice, "/api/customer/exchanges", new { offeredVoucherId = x, requestedVoucherId = y }, key);
        Assert.Equal("true", Assert.Single(again.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(offerId, (await again.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("id").GetGuid());

        Assert.Equal(offerId, Assert.Single((await bob.GetFromJsonAsync<JsonElement>("/api/customer/exchanges?openOnly=true", ApiHost.Json)).EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Empty((await carol.GetFromJsonAsync<JsonElement>("/api/customer/exchanges", ApiHost.Json)).EnumerateArray());

        // Not addressed to Carol, not Bob's to withdraw, not Alice's to accept.
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(carol, $"/api/customer/exchanges/{offerId}/accept", new { }), HttpStatusCode.NotFound, "exchange.not_found");
        await AssertProblemAsync(await carol.PostAsync($"/api/customer/exchanges/{offerId}/decline", null), HttpStatusCode.NotFound, "exchange.not_found");
        await AssertProblemAsync(await bob.PostAsync($"/api/customer/exchanges/{offerId}/withdraw", null), HttpStatusCode.NotFound, "exchange.not_found");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(alice, $"/api/customer/exchanges/{offerId}/accept", new { }), HttpStatusCode.Conflict, "exchange.own_offer");

        var acceptKey = Guid.NewGuid().ToString();
        var accepted = await ApiHost.PostIdempotentAsync(bob, $"/api/customer/exchanges/{offerId}/accept", new { }, acceptKey);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("Accepted", (await accepted.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("status").GetString());
        var acceptedAgain = await ApiHost.PostIdempotentAsync(bob, $"/api/customer/exchanges/{offerId}/accept", new { }, acceptKey);
        Assert.Equal(HttpStatusCode.OK, acceptedAgain.StatusCode);
        Assert.Equal("true", Assert.Single(acceptedAgain.Headers.GetValues("Idempotent-Replayed")));

        // Both moved, with fresh codes, and each side's history says so.
        var aliceHas = (await VoucherAsync(alice, y)).GetProperty("code").GetString();
        Assert.NotEqual(bobsOldCode, aliceHas);
        Assert.Equal("Active", (await VoucherAsync(bob, x)).GetProperty("status").GetString());
        await AssertProblemAsync(await alice.GetAsync($"/api/customer/vouchers/{x}"), HttpStatusCode.NotFound, "voucher.not_found");
        var history = await bob.GetFromJsonAsync<JsonElement>($"/api/customer/vouchers/{x}", ApiHost.Json);
        var exchanged = history.GetProperty("activity").EnumerateArray().Last();
        Assert.Equal("Exchanged", exchanged.GetProperty("kind").GetString());
        Assert.Equal(aliceId, exchanged.GetProperty("fromOwnerId").GetGuid());
        Assert.Equal(bobId, exchanged.GetProperty("toOwnerId").GetGuid());

        // A closed offer is still none of Carol's business: 404, not its state.
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(carol, $"/api/customer/exchanges/{offerId}/accept", new { }), HttpStatusCode.NotFound, "exchange.not_found");
        await AssertProblemAsync(await carol.PostAsync($"/api/customer/exchanges/{offerId}/decline", null), HttpStatusCode.NotFound, "exchange.not_found");
        await AssertProblemAsync(await carol.PostAsync($"/api/customer/exchanges/{offerId}/withdraw", null), HttpStatusCode.NotFound, "exchange.not_found");
        await AssertProblemAsync(await bob.PostAsync($"/api/customer/exchanges/{offerId}/decline", null), HttpStatusCode.Conflict, "exchange.closed");

        Assert.Empty((await bob.GetFromJsonAsync<JsonElement>("/api/customer/exchanges", ApiHost.Json)).EnumerateArray());
        var all = await bob.GetFromJsonAsync<JsonElement>("/api/customer/exchanges?openOnly=false", ApiHost.Json);
        Assert.Equal("Accepted", Assert.Single(all.EnumerateArray()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Offers_are_declined_withdrawn_and_validated()
    {
        await using var host = await ApiHost.StartAsync();
        var shop = await Shop.OpenAsync(host);
        var second = await Shop.CampaignAsync(host, shop, "Gipfeli-Gutschein");
        var (alice, _) = await host.CustomerAsync();
        var (bob, _) = await host.CustomerAsync();
        var x = Assert.Single(await BuyAsync(host, alice, shop.CampaignId, 1)).GetProperty("id").GetGuid();
        var y = Assert.Single(await BuyAsync(host, bob, second, 1)).GetProperty("id").GetGuid();

        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(alice, "/api/customer/exchanges", new { offeredVoucherId = x, requestedVoucherId = y, requestedCampaignId = second }), HttpStatusCode.BadRequest, "validation_failed", "requestedVoucherId");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(alice, "/api/customer/exchanges", new { requestedVoucherId = y }), HttpStatusCode.BadRequest, "validation_failed", "offeredVoucherId");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(alice, "/api/customer/exchanges", new { offeredVoucherId = "nope", requestedVoucherId = y }), HttpStatusCode.BadRequest, "request.malformed", "offeredVoucherId");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(alice, "/api/customer/exchanges", new { offeredVoucherId = y, requestedVoucherId = x }), HttpStatusCode.NotFound, "voucher.not_found");

        // Declined by Bob.
        var declined = await OfferAsync(alice, new { offeredVoucherId = x, requestedVoucherId = y });
        Assert.Equal(HttpStatusCode.NoContent, (await bob.PostAsync($"/api/customer/exchanges/{declined}/decline", null)).StatusCode);
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(bob, $"/api/customer/exchanges/{declined}/accept", new { }), HttpStatusCode.Conflict, "exchange.closed");

        // Withdrawn by Alice before Bob accepts.
        var withdrawn = await OfferAsync(alice, new { offeredVoucherId = x, requestedVoucherId = y });
        Assert.Equal(HttpStatusCode.NoContent, (await alice.PostAsync($"/api/customer/exchanges/{withdrawn}/withdraw", null)).StatusCode);
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(bob, $"/api/customer/exchanges/{withdrawn}/accept", new { }), HttpStatusCode.Conflict, "exchange.closed");
        var mine = (await alice.GetFromJsonAsync<JsonElement>("/api/customer/exchanges?openOnly=false", ApiHost.Json)).EnumerateArray()
            .ToDictionary(o => o.GetProperty("id").GetGuid(), o => o.GetProperty("status").GetString());
        Assert.Equal("Declined", mine[declined]);
        Assert.Equal("Withdrawn", mine[withdrawn]);
        Assert.Equal(2, mine.Count);

        // For any voucher of a campaign: Bob names the voucher he gives (no body at all is fine for the rest).
        var wide = await OfferAsync(alice, new { offeredVoucherId = x, requestedCampaignId = second });
        Assert.Contains(wide, (await bob.GetFromJsonAsync<JsonElement>("/api/customer/exchanges", ApiHost.Json)).EnumerateArray().Select(o => o.GetProperty("id").GetGuid()));
        var bare = new HttpRequestMessage(HttpMethod.Post, $"/api/customer/exchanges/{wide}/accept");
        bare.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        await AssertProblemAsync(await bob.SendAsync(bare), HttpStatusCode.BadRequest, "validation_failed", "givenVoucherId");
        await AssertProblemAsync(await ApiHost.PostIdempotentAsync(bob, $"/api/customer/exchanges/{wide}/accept", new { givenVoucherId = x }), HttpStatusCode.NotFound, "voucher.not_found");
        var accepted = await ApiHost.PostIdempotentAsync(bob, $"/api/customer/exchanges/{wide}/accept", new { givenVoucherId = y });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var view = await accepted.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        Assert.Equal("Accepted", view.GetProperty("status").GetString());
        Assert.Equal(y, (await VoucherAsync(alice, y)).GetProperty("id").GetGuid());
        Assert.Equal(x, (await VoucherAsync(bob, x)).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Devices_are_registered_listed_and_removed_by_their_customer_only()
    {
        await using var host = await ApiHost.StartAsync();
        var (client, _) = await host.CustomerAsync();
        var (other, _) = await host.CustomerAsync();

        var registered = await client.PostAsJsonAsync("/api/customer/devices", new { token = "fcm-token-1", platform = "android" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var device = await registered.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        var deviceId = device.GetProperty("id").GetGuid();
        Assert.Equal($"/api/customer/devices/{deviceId}", registered.Headers.Location?.OriginalString);
        Assert.Equal("android", device.GetProperty("platform").GetString());
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/customer/devices", new { token = "fcm-token-2", platform = "ios" })).StatusCode);

        var listed = (await client.GetFromJsonAsync<JsonElement>("/api/customer/devices", ApiHost.Json)).EnumerateArray().Select(d => d.GetProperty("token").GetString()).ToList();
        Assert.Equal(["fcm-token-1", "fcm-token-2"], listed);
        Assert.Empty((await other.GetFromJsonAsync<JsonElement>("/api/customer/devices", ApiHost.Json)).EnumerateArray());

        await AssertProblemAsync(await client.PostAsJsonAsync("/api/customer/devices", new { token = "fcm-token-3", platform = "symbian" }), HttpStatusCode.BadRequest, "validation_failed", "platform");
        await AssertProblemAsync(await client.PostAsJsonAsync("/api/customer/devices", new { token = "", platform = "ios" }), HttpStatusCode.BadRequest, "validation_failed", "token");

        await AssertProblemAsync(await other.DeleteAsync($"/api/customer/devices/{deviceId}"), HttpStatusCode.NotFound, "device.not_found");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/customer/devices/{deviceId}")).StatusCode);
        Assert.Equal(["fcm-token-2"], (await client.GetFromJsonAsync<JsonElement>("/api/customer/devices", ApiHost.Json)).EnumerateArray().Select(d => d.GetProperty("token").GetString()).ToList());
        await AssertProblemAsync(await client.DeleteAsync($"/api/customer/devices/{deviceId}"), HttpStatusCode.NotFound, "device.not_found");

        // A phone that changes hands: its token follows the customer who registered it last.
        Assert.Equal(HttpStatusCode.Created, (await other.PostAsJsonAsync("/api/customer/devices", new { token = "fcm-token-2", platform = "ios" })).StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/customer/devices", ApiHost.Json)).EnumerateArray());
    }

    [Fact]
    public async Task The_profile_is_read_and_its_language_and_reminders_changed()
    {
        await using var host = await ApiHost.StartAsync();
        var (newcomer, _) = await host.SignUpAsync();
        await AssertProblemAsync(await newcomer.GetAsync("/api/customer/profile"), HttpStatusCode.NotFound, "customer.not_found");

        var (client, id) = await host.CustomerAsync();
        var profile = await client.GetFromJsonAsync<JsonElement>("/api/customer/profile", ApiHost.Json);
        Assert.Equal(id, profile.GetProperty("id").GetGuid());
        Assert.Equal("en", profile.GetProperty("language").GetString());
        Assert.True(profile.GetProperty("expiryReminders").GetBoolean());

        var changed = await client.PutAsJsonAsync("/api/customer/profile", new { displayName = "Anna", language = "DE", expiryReminders = false });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        profile = await client.GetFromJsonAsync<JsonElement>("/api/customer/profile", ApiHost.Json);
        Assert.Equal("de", profile.GetProperty("language").GetString());
        Assert.Equal("Anna", profile.GetProperty("displayName").GetString());
        Assert.False(profile.GetProperty("expiryReminders").GetBoolean());

        await AssertProblemAsync(await client.PutAsJsonAsync("/api/customer/profile", new { language = "klingon" }), HttpStatusCode.BadRequest, "validation_failed", "language");
        await AssertProblemAsync(await client.PutAsJsonAsync("/api/customer/profile", new { language = "fr", expiryReminders = "yes" }), HttpStatusCode.BadRequest, "request.malformed", "expiryReminders");
        Assert.Equal("de", (await client.GetFromJsonAsync<JsonElement>("/api/customer/profile", ApiHost.Json)).GetProperty("language").GetString());
    }

    [Fact]
    public async Task Campaign_images_are_public_cacheable_bytes_with_their_content_type()
    {
        await using var host = await ApiHost.StartAsync();
        var shop = await Shop.OpenAsync(host);
        var bytes = VoucherQr.Png("IMAGE");
        var image = await Shop.RunAsync<CampaignService, CampaignImage>(host, s => s.AddImageAsync(shop.Owner, shop.CampaignId, "image/png", bytes));
        using var anonymous = host.Client();
        var url = $"/api/campaigns/{shop.CampaignId}/images/{image.Id}";

        var got = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        Assert.Equal("image/png", got.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes, await got.Content.ReadAsByteArrayAsync());
        Assert.True(got.Headers.CacheControl?.Public, got.Headers.CacheControl?.ToString());
        Assert.Equal(TimeSpan.FromDays(1), got.Headers.CacheControl?.MaxAge);
        Assert.NotNull(got.Headers.ETag);

        var revalidate = new HttpRequestMessage(HttpMethod.Get, url);
        revalidate.Headers.IfNoneMatch.Add(got.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await anonymous.SendAsync(revalidate)).StatusCode);

        await AssertProblemAsync(await anonymous.GetAsync($"/api/campaigns/{Guid.NewGuid()}/images/{image.Id}"), HttpStatusCode.NotFound, "image.not_found");
        await AssertProblemAsync(await anonymous.GetAsync($"/api/campaigns/{shop.CampaignId}/images/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "image.not_found");
    }

    [Fact]
    public async Task The_openapi_document_lists_the_customer_endpoints_and_their_idempotency_keys()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = host.Client();
        var paths = (await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");

        foreach (var path in new[] { "/api/customer/orders/{orderId}", "/api/customer/vouchers/{voucherId}/qr.png", "/api/customer/vouchers/{voucherId}/qr.svg", "/api/customer/gifts", "/api/customer/exchanges/{offerId}/decline", "/api/customer/devices/{deviceId}", "/api/campaigns/{campaignId}/images/{imageId}" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        foreach (var path in new[] { "/api/customer/vouchers/{voucherId}/gift", "/api/customer/gifts/claim", "/api/customer/exchanges", "/api/customer/exchanges/{offerId}/accept" })
        {
            var parameters = paths.GetProperty(path).GetProperty("post").GetProperty("parameters").EnumerateArray();
            Assert.Contains(parameters, p => p.GetProperty("name").GetString() == "Idempotency-Key" && p.GetProperty("in").GetString() == "header");
        }
    }

    private static async Task<List<Guid>> SearchAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync("/api/campaigns?" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).EnumerateArray().Select(c => c.GetProperty("id").GetGuid()).ToList();
    }

    /// <summary>Orders, pays through the sandbox page, and returns the customer's vouchers of that order.</summary>
    private static async Task<List<JsonElement>> BuyAsync(ApiHost host, HttpClient client, Guid campaignId, int quantity)
    {
        var placed = await ApiHost.PostIdempotentAsync(client, "/api/customer/orders", new { campaignId, quantity });
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var order = await placed.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        await PayAsync(host, order.GetProperty("checkoutUrl").GetString()!);
        var vouchers = await client.GetFromJsonAsync<JsonElement>("/api/customer/vouchers", ApiHost.Json);
        var ofOrder = vouchers.EnumerateArray().Where(v => v.GetProperty("campaignId").GetGuid() == campaignId).ToList();
        Assert.Equal(quantity, ofOrder.Count);
        return ofOrder;
    }

    private static async Task PayAsync(ApiHost host, string checkoutUrl)
    {
        var paymentId = new Uri(checkoutUrl).Segments[^1];
        using var payer = host.Client();
        var paid = await payer.PostAsync($"/sandbox/checkout/{paymentId}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal("VouchersIssued", (await paid.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("outcome").GetString());
    }

    private static async Task<JsonElement> VoucherAsync(HttpClient client, Guid voucherId)
    {
        var response = await client.GetAsync($"/api/customer/vouchers/{voucherId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("voucher");
    }

    private static async Task<Guid> OfferAsync(HttpClient client, object body)
    {
        var made = await ApiHost.PostIdempotentAsync(client, "/api/customer/exchanges", body);
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        return (await made.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json)).GetProperty("id").GetGuid();
    }

    /// <summary>Asserts an RFC 7807 problem with a status, a code, and (when given) an error naming the field.</summary>
    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        if (field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), body);
        }
    }

    /// <summary>An approved merchant with its sandbox account, a location in Zurich and one published campaign, set up through Core.</summary>
    private sealed record Shop(Actor Owner, Guid MerchantId, Guid CampaignId)
    {
        public static async Task<Shop> OpenAsync(ApiHost host)
        {
            var owner = Actor.Member(Guid.NewGuid());
            var admin = Actor.Admin(Guid.NewGuid());
            var merchant = await RunAsync<MerchantService, Merchant>(host, s => s.RegisterAsync(owner, new RegisterMerchant("Café Sonne", "owner@sonne.example.ch", "CH", "Europe/Zurich", "de")));
            await RunAsync<MerchantService>(host, s => s.SubmitForReviewAsync(owner, merchant.Id));
            await RunAsync<MerchantService>(host, s => s.ApproveAsync(admin, merchant.Id));
            await RunAsync<MerchantService>(host, s => s.ConnectPaymentAccountAsync(owner, merchant.Id, "sandbox", "cafe-sonne", "sk_test_secret_123"));
            await RunAsync<MerchantService, Merchant>(host, s => s.UpdateProfileAsync(owner, merchant.Id, new MerchantProfile("Café Sonne", "owner@sonne.example.ch", "Europe/Zurich", "de", "Bahnhofstrasse 1", "Zürich", 47.3769, 8.5417)));
            var shop = new Shop(owner, merchant.Id, Guid.Empty);
            return shop with { CampaignId = await CampaignAsync(host, shop, "Kaffee-Gutschein") };
        }

        /// <summary>Creates and publishes another campaign of the shop (transferable, exchangeable, CHF 50 for CHF 45).</summary>
        public static async Task<Guid> CampaignAsync(ApiHost host, Shop shop, string name)
        {
            var definition = new CampaignDefinition(
                [new CampaignText("de", name, "Für 50 Franken Kaffee"), new CampaignText("en", "Coffee voucher")],
                "de",
                "CHF",
                FaceValue: 5000,
                Price: 4500,
                VoucherKind.SingleUse,
                Supply: 100,
                PerCustomerLimit: null,
                SalesStartAt: null,
                SalesEndAt: null,
                ValidityKind.DaysAfterPurchase,
                ValidUntil: null,
                ValidityDays: 365,
                Transferable: true,
                Exchangeable: true);
            var campaign = await RunAsync<CampaignService, Campaign>(host, s => s.CreateAsync(shop.Owner, shop.MerchantId, definition));
            await RunAsync<CampaignService>(host, s => s.PublishAsync(shop.Owner, campaign.Id));
            return campaign.Id;
        }

        public static async Task<TResult> RunAsync<TService, TResult>(ApiHost host, Func<TService, Task<TResult>> work)
            where TService : notnull
        {
            await using var scope = host.Services.CreateAsyncScope();
            return await work(scope.ServiceProvider.GetRequiredService<TService>());
        }

        public static async Task RunAsync<TService>(ApiHost host, Func<TService, Task> work)
            where TService : notnull
        {
            await using var scope = host.Services.CreateAsyncScope();
            await work(scope.ServiceProvider.GetRequiredService<TService>());
        }
    }
}
