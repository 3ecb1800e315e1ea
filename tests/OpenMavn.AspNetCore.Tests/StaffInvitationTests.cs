using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;

namespace OpenMavn.AspNetCore.Tests;

public sealed class StaffInvitationTests
{
    [Fact]
    public async Task An_owner_invites_a_new_person_by_email_who_sets_a_password_from_the_invitation_and_works_as_staff()
    {
        await using var host = await ApiHost.StartAsync();
        var (owner, _) = await host.SignUpAsync();
        var registered = await owner.PostAsJsonAsync("/api/merchants/", new { name = "Café Sonne", email = "hallo@sonne.example.ch", country = "CH", timeZoneId = "Europe/Zurich", language = "de" });
        var merchantId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var invited = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/members", new { email = "Till.One@Example.ch", role = "Staff" });
        Assert.Equal(HttpStatusCode.OK, invited.StatusCode);
        Assert.Contains((await invited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("members").EnumerateArray(), m => m.GetProperty("email").GetString() == "till.one@example.ch");

        // The invitation is queued in the outbox with the set-password link; nothing else ever carries the code.
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var payload = await db.OutboxMessages.Where(m => m.Type == OutboxTypes.Notification && m.Payload.Contains("merchant.staff_invited")).Select(m => m.Payload).FirstAsync();
        var link = JsonDocument.Parse(payload).RootElement.GetProperty("message").GetProperty("model").GetProperty("link").GetString()!;
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(link).Query);
        Assert.Equal("Till.One@Example.ch", query["email"]);

        using var anonymous = host.Client();
        var reset = await anonymous.PostAsJsonAsync("/api/auth/resetPassword", new { email = query["email"], resetCode = query["code"], newPassword = "till-one-password" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var (staff, staffId) = await host.SignInAsync("Till.One@Example.ch", "till-one-password");
        var me = await staff.GetFromJsonAsync<JsonElement>("/api/me", ApiHost.Json);
        Assert.Equal(merchantId, Assert.Single(me.GetProperty("merchants").EnumerateArray()).GetProperty("merchantId").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"/api/merchants/{merchantId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync($"/api/merchants/{merchantId}/balance")).StatusCode);

        // Inviting the same address again adds no second account and sends no second link.
        var again = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/members", new { email = "till.one@example.ch", role = "Staff" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(1, await db.Users.CountAsync(u => u.NormalizedEmail == "TILL.ONE@EXAMPLE.CH"));
        Assert.Equal(1, await db.OutboxMessages.CountAsync(m => m.Payload.Contains("merchant.staff_invited")) / Math.Max(1, scope.ServiceProvider.GetRequiredService<OutboxWriter>().Channels.Count));
        Assert.Equal(staffId, (await db.MerchantMembers.SingleAsync(m => m.MerchantId == merchantId && m.Role == MerchantRole.Staff)).UserId);
    }

    [Fact]
    public async Task An_invitation_needs_a_valid_email_or_user_id_and_staff_cannot_invite()
    {
        await using var host = await ApiHost.StartAsync();
        var (owner, ownerId) = await host.SignUpAsync();
        var registered = await owner.PostAsJsonAsync("/api/merchants/", new { name = "Café Sonne", email = "hallo@sonne.example.ch", country = "CH", timeZoneId = "Europe/Zurich", language = "de" });
        var merchantId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var bad = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/members", new { email = "not-an-email", role = "Staff" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("email", out _));

        var (staff, staffId) = await host.SignUpAsync();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<MerchantService>().AddMemberAsync(Actor.Member(ownerId), merchantId, staffId, "staff@sonne.example.ch", MerchantRole.Staff);
        }

        var byStaff = await staff.PostAsJsonAsync($"/api/merchants/{merchantId}/members", new { email = "friend@example.ch", role = "Owner" });
        Assert.Equal(HttpStatusCode.Forbidden, byStaff.StatusCode);
    }
}
