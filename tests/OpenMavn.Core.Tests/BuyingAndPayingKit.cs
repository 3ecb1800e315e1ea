using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

/// <summary>The result of one of several parallel attempts: a value or the exception it threw.</summary>
/// <typeparam name="T">Value type.</typeparam>
public sealed record Attempt<T>(T? Value, Exception? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>Helpers for the purchase, payment and refund tests (the shared TestHost stays untouched).</summary>
public static class BuyingAndPayingKit
{
    /// <summary>
    /// Starts <paramref name="count"/> real parallel tasks that all wait on one gate, opens the gate, and collects
    /// every outcome (value or exception).
    /// </summary>
    public static async Task<Attempt<T>[]> RunTogetherAsync<T>(int count, Func<int, Task<T>> work)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = 0;
        var allReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            if (Interlocked.Increment(ref ready) == count)
            {
                allReady.SetResult();
            }

            await gate.Task;
            try
            {
                return new Attempt<T>(await work(i), null);
            }
#pragma warning disable CA1031 // Every outcome is collected and asserted by the test.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return new Attempt<T>(default, ex);
            }
        })).ToArray();
        await allReady.Task.WaitAsync(TimeSpan.FromSeconds(30));
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }

    /// <summary>Same as <see cref="RunTogetherAsync{T}(int, Func{int, Task{T}})"/> for work without a result.</summary>
    public static Task<Attempt<bool>[]> RunTogetherAsync(int count, Func<int, Task> work) =>
        RunTogetherAsync(count, async i =>
        {
            await work(i);
            return true;
        });

    /// <summary>An approved merchant with one published campaign.</summary>
    public static async Task<(Actor Owner, Guid MerchantId, Campaign Campaign)> ShopAsync(this TestHost host, CampaignDefinition? definition = null)
    {
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, definition);
        return (owner, merchantId, campaign);
    }

    /// <summary>Adds a staff member (not an owner) to a merchant.</summary>
    public static async Task<Actor> AddStaffAsync(this TestHost host, Actor owner, Guid merchantId)
    {
        var userId = Guid.NewGuid();
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, userId, $"staff{userId:N}@sonne.example.ch", MerchantRole.Staff));
        return Actor.Member(userId);
    }

    public static Task<Campaign> CampaignAsync(this TestHost host, Guid campaignId) =>
        host.QueryAsync(db => db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == campaignId));

    public static Task<Order> OrderRowAsync(this TestHost host, Guid orderId) =>
        host.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == orderId));

    public static Task<List<Voucher>> VouchersOfOrderAsync(this TestHost host, Guid orderId) =>
        host.QueryAsync(db => db.Vouchers.AsNoTracking().Where(v => v.OrderId == orderId).ToListAsync());

    public static Task<int> VoucherCountAsync(this TestHost host, Guid campaignId) =>
        host.QueryAsync(db => db.Vouchers.CountAsync(v => v.CampaignId == campaignId));

    public static Task<SandboxPayment> SandboxPaymentAsync(this TestHost host, string providerPaymentId) =>
        host.QueryAsync(db => db.SandboxPayments.AsNoTracking().FirstAsync(p => p.Id == providerPaymentId));

    public static Task<List<Refund>> RefundsOfOrderAsync(this TestHost host, Guid orderId) =>
        host.QueryAsync(db => db.Refunds.AsNoTracking().Where(r => r.OrderId == orderId).ToListAsync());

    public static Task<List<JournalEntry>> JournalAsync(this TestHost host, JournalEntryKind kind, Guid referenceId) =>
        host.QueryAsync(db => db.JournalEntries.AsNoTracking().Include(e => e.Lines).Where(e => e.Kind == kind && e.ReferenceId == referenceId).ToListAsync());

    /// <summary>Activity entries of one kind for the vouchers of an order.</summary>
    public static Task<int> ActivityCountAsync(this TestHost host, Guid orderId, VoucherActivityKind kind) =>
        host.QueryAsync(db => db.VoucherActivities.CountAsync(a => a.Kind == kind && db.Vouchers.Any(v => v.Id == a.VoucherId && v.OrderId == orderId)));

    /// <summary>Sets the sandbox row as if the customer had paid at the gateway, without telling OpenMavn.</summary>
    public static Task MarkSandboxPaidSilentlyAsync(this TestHost host, string providerPaymentId) =>
        host.QueryAsync(db => db.SandboxPayments.Where(p => p.Id == providerPaymentId)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Confirmed)));

    /// <summary>A sandbox webhook body naming a payment.</summary>
    public static PaymentWebhookRequest SandboxWebhook(string providerPaymentId, string status = "confirmed") =>
        Webhook($$"""{"paymentId":"{{providerPaymentId}}","status":"{{status}}"}""");

    /// <summary>A raw webhook request with a JSON content type.</summary>
    public static PaymentWebhookRequest Webhook(string body) =>
        new("application/json", Encoding.UTF8.GetBytes(body), new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));

    public static Task<PaymentApplication> DeliverWebhookAsync(this TestHost host, PaymentWebhookRequest request) =>
        host.RunAsync<PurchaseService, PaymentApplication>(s => s.HandleWebhookAsync("sandbox", request));

    public static Task<PaymentApplication> RefreshAsync(this TestHost host, Guid orderId) =>
        host.RunAsync<PurchaseService, PaymentApplication>(s => s.RefreshPaymentAsync(orderId));

    public static Task<int> ExpireReservationsAsync(this TestHost host) =>
        host.RunAsync<PurchaseService, int>(s => s.ExpireReservationsAsync());

    public static Task<int> PollPaymentsAsync(this TestHost host) =>
        host.RunAsync<PurchaseService, int>(s => s.PollPendingPaymentsAsync());

    /// <summary>Outbox notification messages queued for one notification dedupe key (one per channel).</summary>
    public static Task<List<OutboxMessage>> NotificationsQueuedAsync(this TestHost host, string messageDedupeKey) =>
        host.QueryAsync(db => db.OutboxMessages.AsNoTracking()
            .Where(m => m.Type == OutboxTypes.Notification && m.DedupeKey.StartsWith("notify:" + messageDedupeKey + ":"))
            .ToListAsync());

    /// <summary>The VoucherPurchased messages the recording channel received for one order.</summary>
    public static List<NotificationMessage> PurchasedMessagesFor(this TestHost host, Guid orderId) =>
        host.Sent.OfType(NotificationTypes.VoucherPurchased).Where(m => m.Model["orderId"] == orderId.ToString()).ToList();

    /// <summary>Outbox messages neither delivered nor failed.</summary>
    public static Task<int> UndeliveredAsync(this TestHost host) =>
        host.QueryAsync(db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null));

    /// <summary>Outbox messages given up on.</summary>
    public static Task<List<OutboxMessage>> FailedMessagesAsync(this TestHost host) =>
        host.QueryAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.FailedAt != null).ToListAsync());

    /// <summary>Asserts that <paramref name="attempt"/> failed with a <see cref="ConflictException"/> of <paramref name="code"/>.</summary>
    public static void AssertConflict<T>(Attempt<T> attempt, string code)
    {
        var conflict = Assert.IsType<ConflictException>(attempt.Error);
        Assert.Equal(code, conflict.Code);
    }
}
