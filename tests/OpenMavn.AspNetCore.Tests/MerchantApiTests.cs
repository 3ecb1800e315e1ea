using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.AspNetCore.Tests;

public sealed class MerchantApiTests
{
    /// <summary>A 1×1 PNG.</summary>
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    [Fact]
    public async Task The_daily_summary_preference_is_shown_set_by_owners_and_kept_when_a_profile_update_leaves_it_out()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, _) = await s.ReadyMerchantAsync();
        var (staff, _) = await s.StaffAsync(owner, merchantId);
        var m = $"/api/merchants/{merchantId}";
        Assert.True((await owner.GetFromJsonAsync<JsonElement>(m)).GetProperty("dailySummary").GetBoolean());

        var off = await owner.PutAsJsonAsync($"{m}/profile", new { name = "Café Lumière", email = "shop@lumiere.ch", timeZoneId = "Europe/Zurich", language = "de", dailySummary = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False((await off.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dailySummary").GetBoolean());

        var unchanged = await owner.PutAsJsonAsync($"{m}/profile", new { name = "Café Lumière AG", email = "shop@lumiere.ch", timeZoneId = "Europe/Zurich", language = "de" });
        Assert.False((await unchanged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dailySummary").GetBoolean());
        Assert.False((await staff.GetFromJsonAsync<JsonElement>(m)).GetProperty("dailySummary").GetBoolean());

        // Staff may not change it.
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.PutAsJsonAsync($"{m}/profile", new { name = "Café Lumière AG", email = "shop@lumiere.ch", timeZoneId = "Europe/Zurich", language = "de", dailySummary = true })).StatusCode);
        var on = await owner.PutAsJsonAsync($"{m}/profile", new { name = "Café Lumière AG", email = "shop@lumiere.ch", timeZoneId = "Europe/Zurich", language = "de", dailySummary = true });
        Assert.True((await on.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dailySummary").GetBoolean());
    }

    [Fact]
    public async Task An_sme_registers_is_reviewed_connects_its_account_and_publishes_a_campaign_with_an_image()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, ownerId) = await s.UserAsync();

        var registered = await owner.PostAsJsonAsync("/api/merchants", new { name = "Café Lumière", email = "Shop@Lumiere.ch", country = "ch", timeZoneId = "Europe/Zurich", language = "de-CH" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var merchant = await registered.Content.ReadFromJsonAsync<JsonElement>(ApiHost.Json);
        var merchantId = merchant.GetProperty("id").GetGuid();
        Assert.Equal($"/api/merchants/{merchantId}", registered.Headers.Location?.OriginalString);
        Assert.Equal("shop@lumiere.ch", merchant.GetProperty("email").GetString());
        Assert.Equal("CH", merchant.GetProperty("country").GetString());
        Assert.Equal("de", merchant.GetProperty("language").GetString());
        Assert.Equal("Pending", merchant.GetProperty("kycStatus").GetString());
        Assert.False(merchant.GetProperty("suspended").GetBoolean());
        Assert.Equal(JsonValueKind.Null, merchant.GetProperty("paymentAccount").ValueKind);
        var member = Assert.Single(merchant.GetProperty("members").EnumerateArray());
        Assert.Equal(ownerId, member.GetProperty("userId").GetGuid());
        Assert.Equal("Owner", member.GetProperty("role").GetString());

        var me = await owner.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal(merchantId, Assert.Single(me.GetProperty("merchants").EnumerateArray()).GetProperty("merchantId").GetGuid());

        var profile = await owner.PutAsJsonAsync($"/api/merchants/{merchantId}/profile", new
        {
            name = "Café Lumière AG", email = "hello@lumiere.ch", timeZoneId = "Europe/Zurich", language = "fr", address = "Rue du Marché 4", city = "Genève", latitude = 46.2044, longitude = 6.1432,
        });
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        var updated = await profile.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Café Lumière AG", updated.GetProperty("name").GetString());
        Assert.Equal("Genève", updated.GetProperty("city").GetString());
        Assert.Equal(46.2044, updated.GetProperty("latitude").GetDouble());
        Assert.Equal("fr", updated.GetProperty("language").GetString());

        // Not approved yet: a campaign can be drafted but not published.
        var draft = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/campaigns", MerchantScenario.CampaignBody());
        Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
        var draftView = await draft.Content.ReadFromJsonAsync<JsonElement>();
        var campaignId = draftView.GetProperty("campaign").GetProperty("id").GetGuid();
        Assert.Equal($"/api/merchants/{merchantId}/campaigns/{campaignId}", draft.Headers.Location?.OriginalString);
        Assert.Equal("Draft", draftView.GetProperty("campaign").GetProperty("state").GetString());
        Assert.Equal("Brunch for two", draftView.GetProperty("campaign").GetProperty("name").GetString());
        Assert.Equal(5000, draftView.GetProperty("campaign").GetProperty("faceValue").GetProperty("amount").GetInt64());
        Assert.Equal(new[] { "de", "en" }, draftView.GetProperty("texts").EnumerateArray().Select(t => t.GetProperty("language").GetString()!).ToArray());
        Assert.Equal("Saturdays and Sundays", draftView.GetProperty("texts")[1].GetProperty("description").GetString());
        await MerchantScenario.ProblemAsync(await owner.PostAsync($"/api/merchants/{merchantId}/campaigns/{campaignId}/publish", null), HttpStatusCode.Conflict, "merchant.not_approved");

        var submitted = await owner.PostAsync($"/api/merchants/{merchantId}/kyc/submit", null);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.Equal("InReview", (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kycStatus").GetString());
        await MerchantScenario.ProblemAsync(await owner.PostAsync($"/api/merchants/{merchantId}/kyc/submit", null), HttpStatusCode.Conflict, "merchant.kyc_state");

        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<MerchantService>().ApproveAsync(Actor.Admin(Guid.NewGuid()), merchantId, "All documents in order.");
        }

        var approved = await owner.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}", ApiHost.Json);
        Assert.Equal("Approved", approved.GetProperty("kycStatus").GetString());
        Assert.Equal("All documents in order.", approved.GetProperty("kycComment").GetString());
        await MerchantScenario.ProblemAsync(await owner.PostAsync($"/api/merchants/{merchantId}/campaigns/{campaignId}/publish", null), HttpStatusCode.Conflict, "merchant.no_payment_account");

        var connected = await owner.PutAsJsonAsync($"/api/merchants/{merchantId}/payment-account", new { provider = "sandbox", accountId = "lumiere", secret = MerchantScenario.SandboxSecret });
        Assert.Equal(HttpStatusCode.OK, connected.StatusCode);
        var account = (await connected.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentAccount");
        Assert.Equal("sandbox", account.GetProperty("provider").GetString());
        Assert.Equal("lumiere", account.GetProperty("accountId").GetString());
        Assert.True(account.GetProperty("verifiedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.False(account.TryGetProperty("secret", out _));

        var published = await owner.PostAsync($"/api/merchants/{merchantId}/campaigns/{campaignId}/publish", null);
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        Assert.Equal("Published", (await published.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaign").GetProperty("state").GetString());

        // The image: uploaded as multipart, served publicly from the returned URL.
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Png);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "file", "brunch.png");
        var uploaded = await owner.PostAsync($"/api/merchants/{merchantId}/campaigns/{campaignId}/images", form);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var image = await uploaded.Content.ReadFromJsonAsync<JsonElement>();
        var url = image.GetProperty("url").GetString()!;
        Assert.Equal($"/api/campaigns/{campaignId}/images/{image.GetProperty("id").GetGuid()}", url);
        Assert.Equal(url, uploaded.Headers.Location?.OriginalString);
        Assert.Equal("image/png", image.GetProperty("contentType").GetString());
        Assert.Equal(Png.Length, image.GetProperty("size").GetInt32());

        using var anonymous = host.Client();
        var fetched = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal("image/png", fetched.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Png, await fetched.Content.ReadAsByteArrayAsync());
        Assert.Equal(new Uri(host.Address, url), new Uri(image.GetProperty("absoluteUrl").GetString()!));

        // The owner puts the image on the campaign's texts; the catalogue shows it.
        var body = JsonSerializer.SerializeToNode(MerchantScenario.CampaignBody(), ApiHost.Json)!;
        body["texts"]![0]!["imageUrl"] = image.GetProperty("absoluteUrl").GetString();
        var edited = await owner.PutAsJsonAsync($"/api/merchants/{merchantId}/campaigns/{campaignId}", body);
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        var catalogue = await anonymous.GetFromJsonAsync<JsonElement>($"/api/campaigns/{campaignId}?language=de");
        Assert.Equal(image.GetProperty("absoluteUrl").GetString(), catalogue.GetProperty("imageUrl").GetString());

        var deleted = await owner.DeleteAsync($"/api/merchants/{merchantId}/campaigns/{campaignId}/images/{image.GetProperty("id").GetGuid()}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await MerchantScenario.ProblemAsync(await anonymous.GetAsync(url), HttpStatusCode.NotFound, "image.not_found");

        Assert.DoesNotContain(s.Bodies, b => b.Contains(MerchantScenario.SandboxSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Staff_preview_and_redeem_once_reverse_and_the_books_and_csv_exports_follow()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var (staff, staffId) = await s.StaffAsync(owner, merchantId);
        var vouchers = await s.BuyAsync(campaignId, quantity: 2);
        Assert.Equal(2, vouchers.Count);
        var code = vouchers[0].Code;

        var preview = await staff.PostAsJsonAsync($"/api/merchants/{merchantId}/redemptions/preview", new { code = code.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant(), language = "en" });
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        var p = await preview.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(vouchers[0].Id, p.GetProperty("voucherId").GetGuid());
        Assert.Equal("Brunch for two (en)", p.GetProperty("campaignName").GetString());
        Assert.Equal(5000, p.GetProperty("amount").GetProperty("amount").GetInt64());
        Assert.Equal(5000, p.GetProperty("balanceBefore").GetProperty("amount").GetInt64());
        Assert.Equal(0, p.GetProperty("balanceAfter").GetProperty("amount").GetInt64());

        var key = "till-1-" + Guid.NewGuid();
        var redeemed = await MerchantScenario.PostWithKeyAsync(staff, $"/api/merchants/{merchantId}/redemptions", new { code }, key);
        Assert.Equal(HttpStatusCode.OK, redeemed.StatusCode);
        var receipt = await redeemed.Content.ReadFromJsonAsync<JsonElement>();
        var redemptionId = receipt.GetProperty("redemptionId").GetGuid();
        Assert.Equal(5000, receipt.GetProperty("amount").GetProperty("amount").GetInt64());
        Assert.Equal(0, receipt.GetProperty("balanceAfter").GetProperty("amount").GetInt64());

        var replayed = await MerchantScenario.PostWithKeyAsync(staff, $"/api/merchants/{merchantId}/redemptions", new { code }, key);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(redemptionId, (await replayed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("redemptionId").GetGuid());

        // The owner retrying the same till key gets the same receipt from Core; a new key is a new attempt.
        var ownerReplay = await MerchantScenario.PostWithKeyAsync(owner, $"/api/merchants/{merchantId}/redemptions", new { code }, key);
        Assert.Equal(HttpStatusCode.OK, ownerReplay.StatusCode);
        var ownerReceipt = await ownerReplay.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(redemptionId, ownerReceipt.GetProperty("redemptionId").GetGuid());
        Assert.True(ownerReceipt.GetProperty("replayed").GetBoolean());
        await MerchantScenario.ProblemAsync(await MerchantScenario.PostWithKeyAsync(staff, $"/api/merchants/{merchantId}/redemptions", new { code }, "another"), HttpStatusCode.Conflict, "voucher.already_redeemed");
        await MerchantScenario.ProblemAsync(await MerchantScenario.PostWithKeyAsync(staff, $"/api/merchants/{merchantId}/redemptions", new { code = vouchers[1].Code }, key), HttpStatusCode.UnprocessableEntity, "idempotency.key_reused");

        var list = await staff.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/redemptions");
        var listed = Assert.Single(list.EnumerateArray());
        Assert.Equal(redemptionId, listed.GetProperty("id").GetGuid());
        Assert.Equal($"MerchantMember:{staffId}", listed.GetProperty("redeemedBy").GetString());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("reversedAt").ValueKind);

        var books = await Balance(owner, merchantId);
        Assert.Equal(8000, books.GetProperty("grossSales").GetInt64());
        Assert.Equal(8000, books.GetProperty("heldAtPaymentProvider").GetInt64());
        Assert.Equal(2000, books.GetProperty("discounts").GetInt64());
        Assert.Equal(5000, books.GetProperty("outstandingLiability").GetInt64());
        Assert.Equal(5000, books.GetProperty("redeemed").GetInt64());

        var reversed = await staff.PostAsync($"/api/merchants/{merchantId}/redemptions/{redemptionId}/reverse", null);
        Assert.Equal(HttpStatusCode.OK, reversed.StatusCode);
        var voucher = await reversed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Active", voucher.GetProperty("status").GetString());
        Assert.Equal(5000, voucher.GetProperty("balance").GetProperty("amount").GetInt64());
        Assert.Equal(JsonValueKind.Null, voucher.GetProperty("code").ValueKind);
        await MerchantScenario.ProblemAsync(await staff.PostAsync($"/api/merchants/{merchantId}/redemptions/{redemptionId}/reverse", null), HttpStatusCode.Conflict, "redemption.already_reversed");
        await MerchantScenario.ProblemAsync(await staff.PostAsync($"/api/merchants/{merchantId}/redemptions/{Guid.NewGuid()}/reverse", null), HttpStatusCode.NotFound, "redemption.not_found");

        books = await Balance(owner, merchantId);
        Assert.Equal(10000, books.GetProperty("outstandingLiability").GetInt64());
        Assert.Equal(0, books.GetProperty("redeemed").GetInt64());

        var sales = await staff.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/sales", ApiHost.Json);
        var sale = Assert.Single(sales.EnumerateArray());
        Assert.Equal(campaignId, sale.GetProperty("campaignId").GetGuid());
        Assert.Equal(2, sale.GetProperty("quantity").GetInt32());
        Assert.Equal(8000, sale.GetProperty("total").GetProperty("amount").GetInt64());
        Assert.Equal("Paid", sale.GetProperty("status").GetString());
        var paidAt = sale.GetProperty("paidAt").GetDateTimeOffset();
        Assert.Empty((await staff.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/sales?from={Uri.EscapeDataString(paidAt.AddSeconds(1).ToString("O"))}")).EnumerateArray());
        Assert.Single((await staff.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/sales?from={Uri.EscapeDataString(paidAt.AddSeconds(-1).ToString("O"))}&to={Uri.EscapeDataString(paidAt.AddSeconds(1).ToString("O"))}")).EnumerateArray());

        var salesCsv = await staff.GetAsync($"/api/merchants/{merchantId}/sales.csv");
        Assert.Equal(HttpStatusCode.OK, salesCsv.StatusCode);
        Assert.Equal("text/csv", salesCsv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", salesCsv.Content.Headers.ContentDisposition?.DispositionType);
        var salesLines = (await salesCsv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("orderId,paidAt,campaignId,campaignName,quantity,unitPrice,unitFaceValue,amount,currency,status", salesLines[0]);
        var row = Assert.Single(salesLines[1..]).Split(',');
        Assert.Equal(sale.GetProperty("orderId").GetString(), row[0]);
        Assert.Equal(paidAt, DateTimeOffset.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["Brunch for two", "2", "4000", "5000", "8000", "CHF", "Paid"], row[3..]);

        var redemptionsCsv = await staff.GetAsync($"/api/merchants/{merchantId}/redemptions.csv");
        Assert.Equal(HttpStatusCode.OK, redemptionsCsv.StatusCode);
        Assert.Equal("text/csv", redemptionsCsv.Content.Headers.ContentType?.MediaType);
        var redemptionLines = (await redemptionsCsv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("redemptionId,at,voucherId,amount,currency,balanceAfter,redeemedBy,reversedAt", redemptionLines[0]);
        var r = Assert.Single(redemptionLines[1..]).Split(',');
        Assert.Equal([redemptionId.ToString(), vouchers[0].Id.ToString(), "5000", "CHF", "0", $"MerchantMember:{staffId}"], new[] { r[0], r[2], r[3], r[4], r[5], r[6] });
        Assert.NotEqual("", r[7]);

        Assert.DoesNotContain(s.Bodies, b => b.Contains(MerchantScenario.SandboxSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Csv_exports_neutralise_formulas_and_quote_separators()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync(campaign: MerchantScenario.CampaignBody(name: "=HYPERLINK(\"http://evil.example\",\"Brunch, \"\"big\"\"\")"));
        var second = await MerchantScenario.PublishedCampaignAsync(owner, merchantId, MerchantScenario.CampaignBody(name: "@SUM(A1:A9)"));
        var third = await MerchantScenario.PublishedCampaignAsync(owner, merchantId, MerchantScenario.CampaignBody(name: "-2+3"));
        await s.BuyAsync(campaignId);
        await s.BuyAsync(second);
        await s.BuyAsync(third);

        var csv = await owner.GetStringAsync($"/api/merchants/{merchantId}/sales.csv");
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Brunch, \"\"\"\"big\"\"\"\"\"\")\",1,4000,5000,4000,CHF,Paid\r\n", csv, StringComparison.Ordinal);
        Assert.Contains(",'@SUM(A1:A9),1,4000,5000,4000,CHF,Paid\r\n", csv, StringComparison.Ordinal);
        Assert.Contains(",'-2+3,1,4000,5000,4000,CHF,Paid\r\n", csv, StringComparison.Ordinal);
        Assert.Equal(4, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Campaigns_move_through_their_lifecycle_and_the_merchant_lists_every_state()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, published) = await s.ReadyMerchantAsync();
        var draft = (await (await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/campaigns", MerchantScenario.CampaignBody("Draft one"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaign").GetProperty("id").GetGuid();
        var doomed = (await (await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/campaigns", MerchantScenario.CampaignBody("Doomed"))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaign").GetProperty("id").GetGuid();

        async Task<string> Step(Guid id, string action, HttpStatusCode expected = HttpStatusCode.OK)
        {
            var response = await owner.PostAsync($"/api/merchants/{merchantId}/campaigns/{id}/{action}", null);
            Assert.Equal(expected, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return expected == HttpStatusCode.OK ? body.GetProperty("campaign").GetProperty("state").GetString()! : body.GetProperty("code").GetString()!;
        }

        Assert.Equal("Paused", await Step(published, "pause"));
        Assert.Equal("campaign.state", await Step(published, "pause", HttpStatusCode.Conflict));
        Assert.Equal("Published", await Step(published, "resume"));
        Assert.Equal("Ended", await Step(published, "end"));
        Assert.Equal("campaign.state", await Step(published, "resume", HttpStatusCode.Conflict));
        Assert.Equal("Cancelled", await Step(doomed, "cancel"));

        var all = await owner.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/campaigns?language=en");
        var states = all.EnumerateArray().ToDictionary(c => c.GetProperty("campaign").GetProperty("id").GetGuid(), c => c.GetProperty("campaign").GetProperty("state").GetString());
        Assert.Equal(3, states.Count);
        Assert.Equal("Ended", states[published]);
        Assert.Equal("Draft", states[draft]);
        Assert.Equal("Cancelled", states[doomed]);
        Assert.All(all.EnumerateArray(), c => Assert.Equal("en", c.GetProperty("campaign").GetProperty("language").GetString()));

        var one = await owner.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/campaigns/{draft}");
        Assert.Equal("Draft one", one.GetProperty("campaign").GetProperty("name").GetString());
        Assert.Equal("de", one.GetProperty("defaultLanguage").GetString());

        // An update replaces the definition; a sold campaign's terms are frozen and the field is named.
        var changed = await owner.PutAsJsonAsync($"/api/merchants/{merchantId}/campaigns/{draft}", MerchantScenario.CampaignBody("Draft two", faceValue: 7000, price: 6000));
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var changedView = await changed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Draft two", changedView.GetProperty("campaign").GetProperty("name").GetString());
        Assert.Equal(7000, changedView.GetProperty("campaign").GetProperty("faceValue").GetProperty("amount").GetInt64());
        var selling = await MerchantScenario.PublishedCampaignAsync(owner, merchantId);
        await s.BuyAsync(selling);
        await MerchantScenario.FieldsAsync(await owner.PutAsJsonAsync($"/api/merchants/{merchantId}/campaigns/{selling}", MerchantScenario.CampaignBody(price: 3000)), "validation_failed", "price");
        await MerchantScenario.ProblemAsync(await owner.PostAsync($"/api/merchants/{merchantId}/campaigns/{selling}/cancel", null), HttpStatusCode.Conflict, "campaign.has_sales");
        await MerchantScenario.ProblemAsync(await owner.GetAsync($"/api/merchants/{merchantId}/campaigns/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "campaign.not_found");
    }

    [Fact]
    public async Task Staff_redeem_and_see_sales_but_cannot_manage_campaigns_keys_members_payment_account_or_books()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, ownerId, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var (staff, staffId) = await s.StaffAsync(owner, merchantId);
        var voucher = (await s.BuyAsync(campaignId)).Single();
        var m = $"/api/merchants/{merchantId}";

        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync(m)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"{m}/campaigns")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"{m}/campaigns/{campaignId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"{m}/sales")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"{m}/sales.csv")).StatusCode);

        var forbidden = new List<HttpResponseMessage>
        {
            await staff.PostAsJsonAsync($"{m}/campaigns", MerchantScenario.CampaignBody()),
            await staff.PutAsJsonAsync($"{m}/campaigns/{campaignId}", MerchantScenario.CampaignBody()),
            await staff.PostAsync($"{m}/campaigns/{campaignId}/pause", null),
            await staff.PostAsync($"{m}/campaigns/{campaignId}/end", null),
            await staff.PostAsJsonAsync($"{m}/api-keys", new { name = "Till" }),
            await staff.GetAsync($"{m}/api-keys"),
            await staff.PutAsJsonAsync($"{m}/payment-account", new { provider = "sandbox", accountId = "staff-owned", secret = "stolen-secret-123" }),
            await staff.PutAsJsonAsync($"{m}/profile", new { name = "Mine now", email = "staff@example.ch", timeZoneId = "Europe/Zurich", language = "de" }),
            await staff.PostAsJsonAsync($"{m}/members", new { userId = staffId, role = "Owner" }),
            await staff.DeleteAsync($"{m}/members/{ownerId}"),
            await staff.GetAsync($"{m}/balance"),
            await ApiHost.PostIdempotentAsync(staff, $"{m}/vouchers/{voucher.Id}/refund", new { reason = "Because." }),
        };
        foreach (var response in forbidden)
        {
            await MerchantScenario.ProblemAsync(response, HttpStatusCode.Forbidden, "merchant.forbidden");
        }

        using (var form = new MultipartFormDataContent())
        {
            var file = new ByteArrayContent(Png);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, "file", "x.png");
            await MerchantScenario.ProblemAsync(await staff.PostAsync($"{m}/campaigns/{campaignId}/images", form), HttpStatusCode.Forbidden, "merchant.forbidden");
        }

        var after = await owner.GetFromJsonAsync<JsonElement>(m);
        Assert.Equal("lumiere", after.GetProperty("paymentAccount").GetProperty("accountId").GetString());
        Assert.Equal("Staff", after.GetProperty("members").EnumerateArray().Single(x => x.GetProperty("userId").GetGuid() == staffId).GetProperty("role").GetString());
        Assert.Single((await owner.GetFromJsonAsync<JsonElement>($"{m}/campaigns")).EnumerateArray());

        // Staff may redeem.
        Assert.Equal(HttpStatusCode.OK, (await ApiHost.PostIdempotentAsync(staff, $"{m}/redemptions", new { code = voucher.Code })).StatusCode);

        // The owner removes the staff member, who loses access at once; the last owner cannot be removed.
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"{m}/members/{staffId}")).StatusCode);
        await MerchantScenario.ProblemAsync(await staff.GetAsync($"{m}/sales"), HttpStatusCode.Forbidden, "merchant.forbidden");
        await MerchantScenario.ProblemAsync(await owner.DeleteAsync($"{m}/members/{ownerId}"), HttpStatusCode.Conflict, "merchant.last_owner");
        await MerchantScenario.ProblemAsync(await owner.DeleteAsync($"{m}/members/{staffId}"), HttpStatusCode.NotFound, "merchant.member_not_found");
        Assert.DoesNotContain(s.Bodies, b => b.Contains(MerchantScenario.SandboxSecret, StringComparison.Ordinal) || b.Contains("stolen-secret-123", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_member_of_one_merchant_gets_403_or_404_on_another_merchants_routes()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (ownerA, _, a, campaignA) = await s.ReadyMerchantAsync("Bäckerei A");
        var (ownerB, _, b, campaignB) = await s.ReadyMerchantAsync("Bistro B");
        var (staffA, _) = await s.StaffAsync(ownerA, a);
        var voucherB = (await s.BuyAsync(campaignB)).Single();
        var (stranger, _) = await s.UserAsync();

        foreach (var client in new[] { ownerA, staffA, stranger })
        {
            await MerchantScenario.ProblemAsync(await client.GetAsync($"/api/merchants/{b}"), HttpStatusCode.Forbidden, "merchant.forbidden");
            await MerchantScenario.ProblemAsync(await client.GetAsync($"/api/merchants/{b}/campaigns"), HttpStatusCode.Forbidden, "merchant.forbidden");
            await MerchantScenario.ProblemAsync(await client.GetAsync($"/api/merchants/{b}/campaigns/{campaignB}"), HttpStatusCode.Forbidden, "merchant.forbidden");
            await MerchantScenario.ProblemAsync(await client.GetAsync($"/api/merchants/{b}/sales"), HttpStatusCode.Forbidden, "merchant.forbidden");
            await MerchantScenario.ProblemAsync(await client.GetAsync($"/api/merchants/{b}/redemptions.csv"), HttpStatusCode.Forbidden, "merchant.forbidden");
            await MerchantScenario.ProblemAsync(await client.PostAsJsonAsync($"/api/merchants/{b}/redemptions/preview", new { code = voucherB.Code }), HttpStatusCode.Forbidden, "merchant.forbidden");
            await MerchantScenario.ProblemAsync(await ApiHost.PostIdempotentAsync(client, $"/api/merchants/{b}/redemptions", new { code = voucherB.Code }), HttpStatusCode.Forbidden, "merchant.forbidden");
            await MerchantScenario.ProblemAsync(await client.PostAsync($"/api/merchants/{b}/campaigns/{campaignB}/pause", null), HttpStatusCode.Forbidden, "merchant.forbidden");
        }

        // Through its own merchant's routes, A cannot reach B's campaign, voucher or redemption either.
        await MerchantScenario.ProblemAsync(await ownerA.GetAsync($"/api/merchants/{a}/campaigns/{campaignB}"), HttpStatusCode.NotFound, "campaign.not_found");
        await MerchantScenario.ProblemAsync(await ownerA.PostAsync($"/api/merchants/{a}/campaigns/{campaignB}/pause", null), HttpStatusCode.NotFound, "campaign.not_found");
        await MerchantScenario.ProblemAsync(await ownerA.PutAsJsonAsync($"/api/merchants/{a}/campaigns/{campaignB}", MerchantScenario.CampaignBody()), HttpStatusCode.NotFound, "campaign.not_found");
        await MerchantScenario.ProblemAsync(await ownerA.DeleteAsync($"/api/merchants/{a}/campaigns/{campaignB}/images/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "campaign.not_found");
        var preview = await MerchantScenario.ProblemAsync(await staffA.PostAsJsonAsync($"/api/merchants/{a}/redemptions/preview", new { code = voucherB.Code }), HttpStatusCode.NotFound, "voucher.not_found");
        var unknown = await MerchantScenario.ProblemAsync(await staffA.PostAsJsonAsync($"/api/merchants/{a}/redemptions/preview", new { code = VoucherCode.Format(VoucherCode.Generate()) }), HttpStatusCode.NotFound, "voucher.not_found");
        Assert.Equal(unknown.GetProperty("detail").GetString(), preview.GetProperty("detail").GetString());
        await MerchantScenario.ProblemAsync(await ApiHost.PostIdempotentAsync(staffA, $"/api/merchants/{a}/redemptions", new { code = voucherB.Code }), HttpStatusCode.NotFound, "voucher.not_found");
        await MerchantScenario.ProblemAsync(await ApiHost.PostIdempotentAsync(ownerA, $"/api/merchants/{a}/vouchers/{voucherB.Id}/refund", new { reason = "Not mine." }), HttpStatusCode.NotFound, "voucher.not_found");

        var redeemedB = await (await ApiHost.PostIdempotentAsync(ownerB, $"/api/merchants/{b}/redemptions", new { code = voucherB.Code })).Content.ReadFromJsonAsync<JsonElement>();
        await MerchantScenario.ProblemAsync(await staffA.PostAsync($"/api/merchants/{a}/redemptions/{redeemedB.GetProperty("redemptionId").GetGuid()}/reverse", null), HttpStatusCode.NotFound, "redemption.not_found");
        Assert.Empty((await staffA.GetFromJsonAsync<JsonElement>($"/api/merchants/{a}/redemptions")).EnumerateArray());
        Assert.Empty((await ownerA.GetFromJsonAsync<JsonElement>($"/api/merchants/{a}/sales")).EnumerateArray());
        Assert.Single((await ownerA.GetFromJsonAsync<JsonElement>($"/api/merchants/{a}/campaigns")).EnumerateArray(), c => c.GetProperty("campaign").GetProperty("id").GetGuid() == campaignA);

        // Nothing of B changed.
        var stillPublished = await ownerB.GetFromJsonAsync<JsonElement>($"/api/merchants/{b}/campaigns/{campaignB}");
        Assert.Equal("Published", stillPublished.GetProperty("campaign").GetProperty("state").GetString());
        using var anonymous = host.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/merchants/{b}")).StatusCode);
    }

    [Fact]
    public async Task Validation_errors_name_the_fields()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var m = $"/api/merchants/{merchantId}";

        await MerchantScenario.FieldsAsync(
            await owner.PostAsJsonAsync("/api/merchants", new { name = "", email = "not-an-email", country = "Switzerland", timeZoneId = "Mars/Olympus", language = "german" }),
            "validation_failed", "name", "email", "country", "timeZoneId", "language");
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync("/api/merchants", new { }), "validation_failed", "name", "email", "country", "timeZoneId", "language");
        await MerchantScenario.FieldsAsync(
            await owner.PutAsJsonAsync($"{m}/profile", new { name = "Ok", email = "ok@example.ch", timeZoneId = "Europe/Zurich", language = "de", latitude = 123.0 }),
            "validation_failed", "latitude", "longitude");

        await MerchantScenario.FieldsAsync(
            await owner.PostAsJsonAsync($"{m}/campaigns", new
            {
                texts = new[] { new { language = "de", name = "" }, new { language = "de", name = "Zwei" } },
                defaultLanguage = "fr",
                currency = "XYZ",
                faceValue = 0,
                price = -1,
                supply = 0,
                validityKind = "FixedDate",
            }),
            "validation_failed", "texts[0].name", "texts[1].language", "defaultLanguage", "currency", "faceValue", "price", "supply", "validUntil");
        await MerchantScenario.FieldsAsync(
            await owner.PostAsync($"{m}/campaigns", new StringContent("{\"texts\":[],\"faceValue\":\"ten\"}", System.Text.Encoding.UTF8, "application/json")),
            "request.malformed", "faceValue");
        await MerchantScenario.FieldsAsync(
            await owner.PostAsync($"{m}/campaigns", new StringContent("{\"kind\":\"Forever\"}", System.Text.Encoding.UTF8, "application/json")),
            "request.malformed", "kind");

        await MerchantScenario.FieldsAsync(await owner.PutAsJsonAsync($"{m}/payment-account", new { provider = "nowhere", accountId = "", secret = "" }), "validation_failed", "provider", "accountId", "secret");
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync($"{m}/members", new { userId = Guid.NewGuid(), role = "Staff" }), "validation_failed", "userId");
        var (other, otherId) = await s.UserAsync();
        other.Dispose();
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync($"{m}/members", new { userId = otherId, email = "someone-else@example.ch" }), "validation_failed", "email");
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync($"{m}/members", new { userId = otherId, role = "Boss" }), "request.malformed", "role");
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync($"{m}/api-keys", new { name = " " }), "validation_failed", "name");

        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync($"{m}/redemptions/preview", new { code = "7K2M-QX9D" }), "validation_failed", "code");
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync($"{m}/redemptions/preview", new { }), "validation_failed", "code");
        var voucher = (await s.BuyAsync(campaignId)).Single();
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync($"{m}/redemptions/preview", new { code = voucher.Code, amount = 100 }), "validation_failed", "amount");
        var noKey = await MerchantScenario.ProblemAsync(await owner.PostAsJsonAsync($"{m}/redemptions", new { code = voucher.Code }), HttpStatusCode.BadRequest, "request.malformed");
        Assert.Contains("idempotencyKey", noKey.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await MerchantScenario.FieldsAsync(await MerchantScenario.PostWithKeyAsync(owner, $"{m}/redemptions", new { code = voucher.Code }, new string('k', 129)), "validation_failed", "Idempotency-Key");
        await MerchantScenario.FieldsAsync(await ApiHost.PostIdempotentAsync(owner, $"{m}/vouchers/{voucher.Id}/refund", new { reason = "" }), "validation_failed", "reason");
    }

    [Fact]
    public async Task Images_are_checked_by_their_bytes_and_size_one_file_at_a_time()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var url = $"/api/merchants/{merchantId}/campaigns/{campaignId}/images";

        static MultipartFormDataContent Form(params (byte[] Bytes, string Type)[] files)
        {
            var form = new MultipartFormDataContent();
            foreach (var (bytes, type) in files)
            {
                var file = new ByteArrayContent(bytes);
                file.Headers.ContentType = new MediaTypeHeaderValue(type);
                form.Add(file, "file", "upload");
            }

            return form;
        }

        var script = "<script>alert(1)</script>"u8.ToArray();
        await MerchantScenario.FieldsAsync(await owner.PostAsync(url, Form((script, "image/png"))), "validation_failed", "image");
        await MerchantScenario.FieldsAsync(await owner.PostAsync(url, Form((Png, "image/jpeg"))), "validation_failed", "image");
        var tooBig = new byte[(2 * 1024 * 1024) + 1];
        Png.CopyTo(tooBig, 0);
        await MerchantScenario.FieldsAsync(await owner.PostAsync(url, Form((tooBig, "image/png"))), "validation_failed", "image");
        await MerchantScenario.FieldsAsync(await owner.PostAsJsonAsync(url, new { file = Convert.ToBase64String(Png) }), "validation_failed", "file");
        using (var noFile = new MultipartFormDataContent { { new StringContent("hello"), "note" } })
        {
            await MerchantScenario.FieldsAsync(await owner.PostAsync(url, noFile), "validation_failed", "file");
        }

        await MerchantScenario.FieldsAsync(await owner.PostAsync(url, Form((Png, "image/png"), (Png, "image/png"))), "validation_failed", "file");

        // Far above the limit: refused from its Content-Length before the body is sent (Expect: 100-continue).
        using var hugeRequest = new HttpRequestMessage(HttpMethod.Post, url) { Content = Form((new byte[5 * 1024 * 1024], "image/png")) };
        hugeRequest.Headers.ExpectContinue = true;
        await MerchantScenario.ProblemAsync(await owner.SendAsync(hugeRequest), HttpStatusCode.RequestEntityTooLarge, "request.malformed");

        var exactly = new byte[2 * 1024 * 1024];
        Png.CopyTo(exactly, 0);
        var stored = await owner.PostAsync(url, Form((exactly, "image/png")));
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        var image = await stored.Content.ReadFromJsonAsync<JsonElement>();
        using var anonymous = host.Client();
        var fetched = await anonymous.GetAsync(image.GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal("nosniff", fetched.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(exactly.Length, (await fetched.Content.ReadAsByteArrayAsync()).Length);
        await MerchantScenario.ProblemAsync(await anonymous.GetAsync($"/api/campaigns/{Guid.NewGuid()}/images/{image.GetProperty("id").GetGuid()}"), HttpStatusCode.NotFound, "image.not_found");
        await MerchantScenario.ProblemAsync(await owner.DeleteAsync($"{url}/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "image.not_found");
    }

    [Fact]
    public async Task An_owner_refunds_a_voucher_once_and_a_replay_returns_the_same_refund()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var voucher = (await s.BuyAsync(campaignId)).Single();
        var url = $"/api/merchants/{merchantId}/vouchers/{voucher.Id}/refund";

        var refunded = await ApiHost.PostIdempotentAsync(owner, url, new { reason = "Shop closed that weekend." }, "refund-1");
        Assert.Equal(HttpStatusCode.OK, refunded.StatusCode);
        var refund = await refunded.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(voucher.Id, refund.GetProperty("voucherId").GetGuid());
        Assert.Equal(4000, refund.GetProperty("amount").GetProperty("amount").GetInt64());
        Assert.Equal("Requested", refund.GetProperty("status").GetString());

        var replayed = await ApiHost.PostIdempotentAsync(owner, url, new { reason = "Shop closed that weekend." }, "refund-1");
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Equal(refund.GetProperty("id").GetGuid(), (await replayed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        await MerchantScenario.ProblemAsync(await ApiHost.PostIdempotentAsync(owner, url, new { reason = "Again." }, "refund-1"), HttpStatusCode.UnprocessableEntity, "idempotency.key_reused");
        await MerchantScenario.ProblemAsync(await ApiHost.PostIdempotentAsync(owner, url, new { reason = "Again." }, "refund-2"), HttpStatusCode.Conflict, "voucher.not_active");
        await MerchantScenario.ProblemAsync(await owner.PostAsJsonAsync(url, new { reason = "No key." }), HttpStatusCode.BadRequest, "request.malformed");

        var books = await Balance(owner, merchantId);
        Assert.Equal(4000, books.GetProperty("refunds").GetInt64());
        Assert.Equal(0, books.GetProperty("outstandingLiability").GetInt64());
        await MerchantScenario.ProblemAsync(await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/redemptions/preview", new { code = voucher.Code }), HttpStatusCode.Conflict, "voucher.not_active");
    }

    [Fact]
    public async Task Parallel_redemptions_of_one_voucher_over_http_let_exactly_one_succeed()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var (staff, _) = await s.StaffAsync(owner, merchantId);
        var vouchers = await s.BuyAsync(campaignId, quantity: 2);
        var url = $"/api/merchants/{merchantId}/redemptions";

        // Different tills (keys), owner and staff at once, on the same voucher.
        var gate = new TaskCompletionSource();
        var racing = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            return await ApiHost.PostIdempotentAsync(i % 2 == 0 ? staff : owner, url, new { code = vouchers[0].Code }, $"till-{i}");
        })).ToList();
        gate.SetResult();
        var responses = await Task.WhenAll(racing);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        foreach (var response in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await MerchantScenario.ProblemAsync(response, HttpStatusCode.Conflict, "voucher.already_redeemed");
        }

        // The same key sent many times at once by one till: one redemption, every answer is it (or "still in progress").
        gate = new TaskCompletionSource();
        racing = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            await gate.Task;
            return await ApiHost.PostIdempotentAsync(staff, url, new { code = vouchers[1].Code }, "same-key");
        })).ToList();
        gate.SetResult();
        responses = await Task.WhenAll(racing);
        var receipts = new HashSet<Guid>();
        foreach (var response in responses)
        {
            if (response.StatusCode == HttpStatusCode.OK)
            {
                receipts.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("redemptionId").GetGuid());
            }
            else
            {
                await MerchantScenario.ProblemAsync(response, HttpStatusCode.Conflict, "idempotency.in_progress");
            }
        }

        Assert.Single(receipts);
        var listed = await owner.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/redemptions");
        Assert.Equal(2, listed.GetArrayLength());
        Assert.Equal(receipts.Single(), listed.EnumerateArray().Single(r => r.GetProperty("voucherId").GetGuid() == vouchers[1].Id).GetProperty("id").GetGuid());
        Assert.Equal(10000, (await Balance(owner, merchantId)).GetProperty("redeemed").GetInt64());
    }

    [Fact]
    public async Task Code_lookups_are_rate_limited_per_user()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["OpenMavn:Api:CodeLookupsPerMinutePerUser"] = "2" });
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, _) = await s.ReadyMerchantAsync();
        var (staff, _) = await s.StaffAsync(owner, merchantId);
        var url = $"/api/merchants/{merchantId}/redemptions/preview";
        var code = new { code = VoucherCode.Format(VoucherCode.Generate()) };

        Assert.Equal(HttpStatusCode.NotFound, (await staff.PostAsJsonAsync(url, code)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await staff.PostAsJsonAsync(url, code)).StatusCode);
        var limited = await MerchantScenario.ProblemAsync(await staff.PostAsJsonAsync(url, code), HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.NotNull(limited.GetProperty("detail").GetString());
        await MerchantScenario.ProblemAsync(await ApiHost.PostIdempotentAsync(staff, $"/api/merchants/{merchantId}/redemptions", code), HttpStatusCode.TooManyRequests, "rate_limited");

        // Another user has their own allowance; other routes are not limited.
        Assert.Equal(HttpStatusCode.NotFound, (await owner.PostAsJsonAsync(url, code)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"/api/merchants/{merchantId}/sales")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_merchant_and_integration_apis()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = host.Client();
        var paths = (await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");
        foreach (var path in new[]
        {
            "/api/merchants", "/api/merchants/{merchantId}/campaigns/{campaignId}/images", "/api/merchants/{merchantId}/redemptions",
            "/api/merchants/{merchantId}/sales.csv", "/api/merchants/{merchantId}/vouchers/{voucherId}/refund", "/api/campaigns/{campaignId}/images/{imageId}",
            "/api/integration/redemptions", "/api/integration/redemptions/validate", "/api/integration/sales",
        })
        {
            Assert.True(paths.TryGetProperty(path, out _) || paths.TryGetProperty(path + "/", out _), $"{path} is missing from the OpenAPI document.");
        }

        var redeem = paths.GetProperty("/api/merchants/{merchantId}/redemptions").GetProperty("post");
        Assert.Contains(redeem.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "Idempotency-Key");
        Assert.True(paths.GetProperty("/api/merchants/{merchantId}/campaigns/{campaignId}/images").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
    }

    private static async Task<JsonElement> Balance(HttpClient owner, Guid merchantId)
    {
        var response = await owner.GetAsync($"/api/merchants/{merchantId}/balance");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var balances = await response.Content.ReadFromJsonAsync<JsonElement>();
        var chf = Assert.Single(balances.EnumerateArray());
        Assert.Equal("CHF", chf.GetProperty("currency").GetString());
        return chf;
    }
}
