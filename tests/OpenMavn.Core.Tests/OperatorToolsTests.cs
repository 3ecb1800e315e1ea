using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Merchants;

namespace OpenMavn.Core.Tests;

/// <summary>What operators use beyond the KYC review: suspension, the campaign overview, the failed outbox.</summary>
public sealed class OperatorToolsTests
{
    private static readonly Actor Admin = Actor.Admin(Guid.NewGuid());

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Suspending_without_a_reason_names_the_reason_field_and_changes_nothing(string reason)
    {
        await using var host = await TestHost.StartAsync();
        var (_, merchantId) = await host.RegisterMerchantAsync();

        var refused = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService>(s => s.SuspendAsync(Admin, merchantId, reason)));

        Assert.Equal(["reason"], refused.Errors.Keys);
        Assert.Null(await host.QueryAsync(db => db.Merchants.Where(m => m.Id == merchantId).Select(m => m.SuspendedAt).SingleAsync()));
    }
}
