using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

/// <summary>
/// Helpers for the tests of what happens to vouchers after purchase (redemption, gifts, exchanges, expiry).
/// Plain static methods (not extensions) so that they never clash with helpers of other test files.
/// </summary>
internal static class AfterPurchaseKit
{
    /// <summary>An approved merchant with one staff member and one published campaign.</summary>
    public sealed record Shop(Actor Owner, Guid MerchantId, Actor Staff, Campaign Campaign);

    /// <summary>What one racing task did: a value or one of our own errors (anything else fails the test).</summary>
    public sealed record Outcome<T>(T? Value, OpenMavnException? Error)
    {
        public bool Succeeded => Error is null;
    }

    public static CampaignDefinition StoredValue(long faceValue = 5000, long price = 4500) =>
        TestHost.Definition(faceValue, price, VoucherKind.StoredValue);

    public static async Task<Shop> OpenShopAsync(TestHost host, CampaignDefinition? definition = null)
    {
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var staff = await AddStaffAsync(host, owner, merchantId);
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, definition);
        return new Shop(owner, merchantId, staff, campaign);
    }

    public static async Task<Actor> AddStaffAsync(TestHost host, Actor owner, Guid merchantId)
    {
        var staff = Actor.Member(Guid.NewGuid());
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, staff.Id, $"staff{staff.Id:N}@example.ch", MerchantRole.Staff));
        return staff;
    }

    public static async Task<Voucher> BuyOneAsync(TestHost host, Actor customer, Campaign campaign) =>
        (await host.BuyAsync(customer, campaign.Id)).Vouchers.Single();

    public static Task<RedemptionReceipt> RedeemAsync(TestHost host, Shop shop, string code, long? amount = null, string? key = null) =>
        host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(shop.Staff, shop.MerchantId, code, amount, key ?? Guid.NewGuid().ToString()));

    public static Task<List<VoucherActivity>> ActivitiesAsync(TestHost host, Guid voucherId) =>
        host.QueryAsync(db => db.VoucherActivities.AsNoTracking().Where(a => a.VoucherId == voucherId).OrderBy(a => a.Id).ToListAsync());

    public static Task<int> CountOutboxAsync(TestHost host) => host.QueryAsync(db => db.OutboxMessages.CountAsync());

    public static Task<JobRound> RunJobsAsync(TestHost host) => host.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync();

    /// <summary>Delivers the outbox and returns the messages of a type sent to an address.</summary>
    public static async Task<List<NotificationMessage>> DeliveredAsync(TestHost host, string type, string email)
    {
        await host.Outbox.DrainAsync();
        return host.Sent.OfType(type).Where(m => m.Recipient.Email == email).ToList();
    }

    /// <summary>The one-time token inside a gift's claim link.</summary>
    public static string TokenFrom(NotificationMessage giftReceived)
    {
        var url = new Uri(giftReceived.Model["claimUrl"]);
        var pair = url.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("token=", StringComparison.Ordinal));
        return Uri.UnescapeDataString(pair["token=".Length..]);
    }

    /// <summary>
    /// Runs <paramref name="count"/> operations truly in parallel: every task waits at one gate and all are released
    /// together. Our own domain errors are collected; anything else (a database error, a crash) fails the test.
    /// </summary>
    public static async Task<Outcome<T>[]> RaceAsync<T>(int count, Func<int, Task<T>> work)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            if (Interlocked.Increment(ref started) == count)
            {
                allStarted.SetResult();
            }

            await gate.Task;
            try
            {
                return new Outcome<T>(await work(i), null);
            }
            catch (OpenMavnException ex)
            {
                return new Outcome<T>(default, ex);
            }
        })).ToArray();
        await allStarted.Task;
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }

    /// <summary>The same code with one symbol replaced by another symbol of the alphabet.</summary>
    public static string Substitute(string canonical, int position, char replacement) =>
        string.Concat(canonical.AsSpan(0, position), replacement.ToString(), canonical.AsSpan(position + 1));

    /// <summary>The same code with the symbols at <paramref name="position"/> and the next one swapped.</summary>
    public static string SwapNeighbours(string canonical, int position)
    {
        var chars = canonical.ToCharArray();
        (chars[position], chars[position + 1]) = (chars[position + 1], chars[position]);
        return new string(chars);
    }
}
