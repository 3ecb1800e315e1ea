using Microsoft.EntityFrameworkCore;

namespace OpenMavn.Core.Tests;

public sealed class AppendOnlyTests
{
    [Theory]
    [InlineData("UPDATE \"VoucherActivities\" SET \"Amount\" = 1")]
    [InlineData("DELETE FROM \"VoucherActivities\"")]
    [InlineData("UPDATE \"JournalLines\" SET \"Debit\" = \"Debit\" + 1")]
    [InlineData("DELETE FROM \"JournalLines\"")]
    [InlineData("UPDATE \"JournalEntries\" SET \"Kind\" = 'Refund'")]
    [InlineData("DELETE FROM \"JournalEntries\"")]
    public async Task History_and_books_cannot_be_changed_or_deleted_even_with_raw_SQL(string sql)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id);
        var before = await host.QueryAsync(db => db.VoucherActivities.CountAsync());
        Assert.True(before > 0);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.QueryAsync(db => db.Database.ExecuteSqlRawAsync(sql)));

        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await host.QueryAsync(db => db.VoucherActivities.CountAsync()));
    }
}
