using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;

namespace OpenMavn.Core.Tests;

public sealed class WebhookQueueTests
{
    private static PaymentWebhookRequest Webhook(string paymentId, string status = "Confirmed") =>
        new("application/json", Encoding.UTF8.GetBytes($"{{\"paymentId\":\"{paymentId}\",\"status\":\"{status}\"}}"), new Dictionary<string, string>());

    [Fact]
    public async Task A_webhook_is_queued_once_per_delivery_and_issues_the_vouchers_once_after_verification()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var order = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 2);
        await host.QueryAsync(db => db.SandboxPayments.Where(p => p.Id == order.ProviderPaymentId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Confirmed)));

        var gate = new TaskCompletionSource();
        var deliveries = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            await gate.Task;
            return await host.RunAsync<PurchaseService, WebhookReceipt>(s => s.QueueWebhookAsync("sandbox", Webhook(order.ProviderPaymentId!)));
        })).ToList();
        gate.SetResult();
        var receipts = await Task.WhenAll(deliveries);

        Assert.Equal(1, receipts.Count(r => r == WebhookReceipt.Queued));
        Assert.Equal(9, receipts.Count(r => r == WebhookReceipt.Duplicate));
        Assert.Equal(0, await host.QueryAsync(db => db.Vouchers.CountAsync()));
        await host.Outbox.DrainAsync();
        Assert.Equal(2, await host.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == order.Id)));
        Assert.Equal(WebhookReceipt.Duplicate, await host.RunAsync<PurchaseService, WebhookReceipt>(s => s.QueueWebhookAsync("sandbox", Webhook(order.ProviderPaymentId!))));
        Assert.Single(await host.OutboxAsync(OutboxTypes.PaymentWebhook));
    }

    [Fact]
    public async Task A_forged_webhook_for_an_unpaid_checkout_is_taken_but_issues_nothing()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var order = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id);

        Assert.Equal(WebhookReceipt.Queued, await host.RunAsync<PurchaseService, WebhookReceipt>(s => s.QueueWebhookAsync("sandbox", Webhook(order.ProviderPaymentId!))));
        await host.Outbox.DrainAsync();

        Assert.Equal(0, await host.QueryAsync(db => db.Vouchers.CountAsync()));
        Assert.Equal(OrderStatus.PendingPayment, (await host.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync())).Status);
        var message = Assert.Single(await host.OutboxAsync(OutboxTypes.PaymentWebhook));
        Assert.NotNull(message.ProcessedAt);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("[]")]
    public async Task A_webhook_naming_no_payment_is_ignored_and_queues_nothing(string body)
    {
        await using var host = await TestHost.StartAsync();
        var request = new PaymentWebhookRequest("application/json", Encoding.UTF8.GetBytes(body), new Dictionary<string, string>());

        Assert.Equal(WebhookReceipt.Ignored, await host.RunAsync<PurchaseService, WebhookReceipt>(s => s.QueueWebhookAsync("sandbox", request)));
        Assert.Empty(await host.OutboxAsync(OutboxTypes.PaymentWebhook));
        await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<PurchaseService, WebhookReceipt>(s => s.QueueWebhookAsync("nope", request)));
    }
}
