using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OpenMavn.AspNetCore.Tests;

public sealed class SkeletonTests
{
    [Fact]
    public async Task Health_openapi_and_problem_details_answer_over_real_http()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = host.Client();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        var openapi = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/api/customer/orders", out _));

        var missing = await client.GetAsync($"/api/campaigns/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal("campaign.not_found", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var anonymous = await client.GetAsync("/api/customer/vouchers");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_malformed_body_is_a_problem_naming_the_field_and_an_order_needs_an_idempotency_key()
    {
        await using var host = await ApiHost.StartAsync();
        var (client, _) = await host.CustomerAsync();

        var bad = await client.PostAsync("/api/customer/orders", new StringContent("{\"campaignId\":\"" + Guid.NewGuid() + "\",\"quantity\":\"two\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("quantity", out _), problem.ToString());

        var noKey = await client.PostAsJsonAsync("/api/customer/orders", new { campaignId = Guid.NewGuid(), quantity = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, noKey.StatusCode);
        Assert.True((await noKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
    }
}
