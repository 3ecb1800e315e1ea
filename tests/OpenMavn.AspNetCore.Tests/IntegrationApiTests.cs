using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.AspNetCore.Tests;

public sealed class IntegrationApiTests
{
    private static readonly object StoredValue = MerchantScenario.CampaignBody("Wertgutschein", faceValue: 10000, price: 10000, kind: "StoredValue");

    [Fact]
    public async Task A_till_validates_redeems_in_parts_replays_and_reverses_with_its_api_key()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync(campaign: StoredValue);

        var created = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/api-keys", new { name = "Till 1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var keyId = key.GetProperty("id").GetGuid();
        var secret = key.GetProperty("secret").GetString()!;
        Assert.StartsWith($"omk_{keyId:N}_", secret, StringComparison.Ordinal);
        Assert.Equal("Till 1", key.GetProperty("name").GetString());
        Assert.Equal($"/api/merchants/{merchantId}/api-keys/{keyId}", created.Headers.Location?.OriginalString);

        var voucher = (await s.BuyAsync(campaignId)).Single();
        using var till = s.Till(secret);

        var validated = await till.PostAsJsonAsync("/api/integration/redemptions/validate", new { code = voucher.Code, amount = 2500 });
        Assert.Equal(HttpStatusCode.OK, validated.StatusCode);
        var preview = await validated.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(voucher.Id, preview.GetProperty("voucherId").GetGuid());
        Assert.Equal("StoredValue", preview.GetProperty("kind").GetString());
        Assert.Equal(2500, preview.GetProperty("amount").GetProperty("amount").GetInt64());
        Assert.Equal(7500, preview.GetProperty("balanceAfter").GetProperty("amount").GetInt64());

        var first = await MerchantScenario.PostWithKeyAsync(till, "/api/integration/redemptions", new { code = voucher.Code, amount = 2500 }, "pos-1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var receipt = await first.Content.ReadFromJsonAsync<JsonElement>();
        var redemptionId = receipt.GetProperty("redemptionId").GetGuid();
        Assert.Equal(7500, receipt.GetProperty("balanceAfter").GetProperty("amount").GetInt64());

        var replay = await MerchantScenario.PostWithKeyAsync(till, "/api/integration/redemptions", new { code = voucher.Code, amount = 2500 }, "pos-1");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        var replayed = await replay.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(redemptionId, replayed.GetProperty("redemptionId").GetGuid());
        Assert.Equal(7500, replayed.GetProperty("balanceAfter").GetProperty("amount").GetInt64());

        var second = await MerchantScenario.PostWithKeyAsync(till, "/api/integration/redemptions", new { code = voucher.Code, amount = 2500 }, "pos-2");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(5000, (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balanceAfter").GetProperty("amount").GetInt64());
        await MerchantScenario.ProblemAsync(await MerchantScenario.PostWithKeyAsync(till, "/api/integration/redemptions", new { code = voucher.Code, amount = 6000 }, "pos-3"), HttpStatusCode.Conflict, "voucher.insufficient_balance");

        var reversed = await till.PostAsync($"/api/integration/redemptions/{redemptionId}/reverse", null);
        Assert.Equal(HttpStatusCode.OK, reversed.StatusCode);
        Assert.Equal(7500, (await reversed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balance").GetProperty("amount").GetInt64());
        await MerchantScenario.ProblemAsync(await till.PostAsync($"/api/integration/redemptions/{redemptionId}/reverse", null), HttpStatusCode.Conflict, "redemption.already_reversed");

        var campaigns = await till.GetFromJsonAsync<JsonElement>("/api/integration/campaigns?language=de");
        var campaign = Assert.Single(campaigns.EnumerateArray());
        Assert.Equal(campaignId, campaign.GetProperty("id").GetGuid());
        Assert.Equal("Wertgutschein", campaign.GetProperty("name").GetString());
        var sales = await till.GetFromJsonAsync<JsonElement>("/api/integration/sales");
        Assert.Equal(10000, Assert.Single(sales.EnumerateArray()).GetProperty("total").GetProperty("amount").GetInt64());

        // The merchant sees who redeemed; the key list shows the key was used and never its secret.
        var redemptions = await owner.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/redemptions");
        Assert.Equal(2, redemptions.GetArrayLength());
        Assert.All(redemptions.EnumerateArray(), r => Assert.Equal($"ApiKey:{keyId}", r.GetProperty("redeemedBy").GetString()));
        var keys = await owner.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/api-keys");
        var listed = Assert.Single(keys.EnumerateArray());
        Assert.Equal(keyId, listed.GetProperty("id").GetGuid());
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("lastUsedAt").ValueKind);
        Assert.False(listed.TryGetProperty("secret", out _));
        Assert.Single(s.Bodies, b => b.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(s.Bodies, b => b.Contains(MerchantScenario.SandboxSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_revoked_unknown_or_missing_key_gets_401_and_keys_open_no_other_api()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var (_, _, otherMerchant, _) = await s.ReadyMerchantAsync("Bistro B");
        var voucher = (await s.BuyAsync(campaignId)).Single();
        var key = await (await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/api-keys", new { name = "Till" })).Content.ReadFromJsonAsync<JsonElement>();
        var keyId = key.GetProperty("id").GetGuid();
        using var till = s.Till(key.GetProperty("secret").GetString()!);

        Assert.Equal(HttpStatusCode.OK, (await till.GetAsync("/api/integration/campaigns")).StatusCode);

        // A key is not a user: the merchant, customer and admin APIs refuse it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await till.GetAsync($"/api/merchants/{merchantId}/sales")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await till.GetAsync($"/api/merchants/{otherMerchant}/sales")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await till.GetAsync("/api/customer/vouchers")).StatusCode);

        // And a signed-in user is not a key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await owner.GetAsync("/api/integration/campaigns")).StatusCode);

        var revoked = await owner.DeleteAsync($"/api/merchants/{merchantId}/api-keys/{keyId}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await till.GetAsync("/api/integration/campaigns")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await till.PostAsJsonAsync("/api/integration/redemptions/validate", new { code = voucher.Code })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ApiHost.PostIdempotentAsync(till, "/api/integration/redemptions", new { code = voucher.Code })).StatusCode);
        var listed = Assert.Single((await owner.GetFromJsonAsync<JsonElement>($"/api/merchants/{merchantId}/api-keys")).EnumerateArray());
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("revokedAt").ValueKind);

        using var bogus = s.Till($"omk_{keyId:N}_{new string('0', 64)}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await bogus.GetAsync("/api/integration/sales")).StatusCode);
        using var garbage = s.Till("let-me-in");
        Assert.Equal(HttpStatusCode.Unauthorized, (await garbage.GetAsync("/api/integration/sales")).StatusCode);
        using var anonymous = host.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/integration/sales")).StatusCode);

        await MerchantScenario.ProblemAsync(await owner.DeleteAsync($"/api/merchants/{merchantId}/api-keys/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "api_key.not_found");

        // The voucher is untouched.
        var preview = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/redemptions/preview", new { code = voucher.Code });
        Assert.Equal(5000, (await preview.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("balanceBefore").GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task A_key_of_one_merchant_cannot_redeem_another_merchants_vouchers_nor_see_its_sales_or_keys()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (ownerA, _, a, campaignA) = await s.ReadyMerchantAsync("Bäckerei A");
        var (ownerB, _, b, campaignB) = await s.ReadyMerchantAsync("Bistro B");
        var voucherB = (await s.BuyAsync(campaignB)).Single();
        var keyA = await (await ownerA.PostAsJsonAsync($"/api/merchants/{a}/api-keys", new { name = "Till A" })).Content.ReadFromJsonAsync<JsonElement>();
        var keyB = await (await ownerB.PostAsJsonAsync($"/api/merchants/{b}/api-keys", new { name = "Till B" })).Content.ReadFromJsonAsync<JsonElement>();
        using var tillA = s.Till(keyA.GetProperty("secret").GetString()!);

        var validate = await MerchantScenario.ProblemAsync(await tillA.PostAsJsonAsync("/api/integration/redemptions/validate", new { code = voucherB.Code }), HttpStatusCode.NotFound, "voucher.not_found");
        Assert.Equal(RedemptionService.NotRedeemableHere, validate.GetProperty("detail").GetString());
        var unknown = await MerchantScenario.ProblemAsync(await tillA.PostAsJsonAsync("/api/integration/redemptions/validate", new { code = VoucherCode.Format(VoucherCode.Generate()) }), HttpStatusCode.NotFound, "voucher.not_found");
        Assert.Equal(validate.GetProperty("detail").GetString(), unknown.GetProperty("detail").GetString());
        await MerchantScenario.ProblemAsync(await ApiHost.PostIdempotentAsync(tillA, "/api/integration/redemptions", new { code = voucherB.Code }), HttpStatusCode.NotFound, "voucher.not_found");

        var redeemedByB = await ApiHost.PostIdempotentAsync(ownerB, $"/api/merchants/{b}/redemptions", new { code = voucherB.Code });
        Assert.Equal(HttpStatusCode.OK, redeemedByB.StatusCode);
        var redemptionB = (await redeemedByB.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("redemptionId").GetGuid();
        await MerchantScenario.ProblemAsync(await tillA.PostAsync($"/api/integration/redemptions/{redemptionB}/reverse", null), HttpStatusCode.NotFound, "redemption.not_found");
        Assert.Equal(JsonValueKind.Null, Assert.Single((await ownerB.GetFromJsonAsync<JsonElement>($"/api/merchants/{b}/redemptions")).EnumerateArray()).GetProperty("reversedAt").ValueKind);

        Assert.Empty((await tillA.GetFromJsonAsync<JsonElement>("/api/integration/sales")).EnumerateArray());
        Assert.Single((await ownerB.GetFromJsonAsync<JsonElement>($"/api/merchants/{b}/sales")).EnumerateArray());
        Assert.Equal(campaignA, Assert.Single((await tillA.GetFromJsonAsync<JsonElement>("/api/integration/campaigns")).EnumerateArray()).GetProperty("id").GetGuid());

        // Owner A cannot revoke B's key through A's routes, nor list B's keys.
        await MerchantScenario.ProblemAsync(await ownerA.DeleteAsync($"/api/merchants/{a}/api-keys/{keyB.GetProperty("id").GetGuid()}"), HttpStatusCode.NotFound, "api_key.not_found");
        await MerchantScenario.ProblemAsync(await ownerA.DeleteAsync($"/api/merchants/{b}/api-keys/{keyB.GetProperty("id").GetGuid()}"), HttpStatusCode.Forbidden, "merchant.forbidden");
        await MerchantScenario.ProblemAsync(await ownerA.GetAsync($"/api/merchants/{b}/api-keys"), HttpStatusCode.Forbidden, "merchant.forbidden");
        using var tillB = s.Till(keyB.GetProperty("secret").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await tillB.GetAsync("/api/integration/sales")).StatusCode);
    }

    [Fact]
    public async Task Till_input_errors_are_problems_naming_the_field()
    {
        await using var host = await ApiHost.StartAsync();
        var s = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await s.ReadyMerchantAsync();
        var voucher = (await s.BuyAsync(campaignId)).Single();
        var key = await (await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/api-keys", new { name = "Till" })).Content.ReadFromJsonAsync<JsonElement>();
        using var till = s.Till(key.GetProperty("secret").GetString()!);

        var typo = voucher.Code[..^1] + (voucher.Code[^1] == '0' ? '1' : '0');
        await MerchantScenario.FieldsAsync(await till.PostAsJsonAsync("/api/integration/redemptions/validate", new { code = typo }), "validation_failed", "code");
        await MerchantScenario.FieldsAsync(await till.PostAsJsonAsync("/api/integration/redemptions/validate", new { code = voucher.Code, amount = 1 }), "validation_failed", "amount");
        await MerchantScenario.FieldsAsync(await till.PostAsync("/api/integration/redemptions/validate", new StringContent("{\"code\":\"x\",\"amount\":\"all\"}", System.Text.Encoding.UTF8, "application/json")), "request.malformed", "amount");
        await MerchantScenario.ProblemAsync(await till.PostAsJsonAsync("/api/integration/redemptions", new { code = voucher.Code }), HttpStatusCode.BadRequest, "request.malformed");
        await MerchantScenario.ProblemAsync(await till.GetAsync("/api/integration/sales?from=yesterday"), HttpStatusCode.BadRequest, "request.malformed");

        Assert.Equal(HttpStatusCode.OK, (await MerchantScenario.PostWithKeyAsync(till, "/api/integration/redemptions", new { code = voucher.Code }, "sale-42")).StatusCode);
        await MerchantScenario.ProblemAsync(await MerchantScenario.PostWithKeyAsync(till, "/api/integration/redemptions", new { code = voucher.Code, amount = 5000 }, "sale-42"), HttpStatusCode.UnprocessableEntity, "idempotency.key_reused");
        await MerchantScenario.ProblemAsync(await MerchantScenario.PostWithKeyAsync(till, "/api/integration/redemptions", new { code = voucher.Code }, "sale-43"), HttpStatusCode.Conflict, "voucher.already_redeemed");
    }
}
