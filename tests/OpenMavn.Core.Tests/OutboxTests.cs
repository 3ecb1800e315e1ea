using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

public sealed class OutboxTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_transiently_failing_message_is_retried_with_exponential_backoff_and_delivered_exactly_once_after_recovery()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.RetryBaseDelay = Base);
        var id = await OutboxSupport.EnqueueAsync(host, "ping-1");
        host.Sent.FailWith = new ProviderException("test", "down", transient: true);

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Equal(1, await host.Outbox.DispatchOnceAsync());
            var failed = await OutboxSupport.MessageAsync(host, id);
            var delay = Base * (1 << (attempt - 1)); // base × 2^(n−1)
            Assert.Equal(attempt, failed.Attempts);
            Assert.Equal(host.Time.GetUtcNow() + delay, failed.AvailableAt);
            Assert.Null(failed.ProcessedAt);
            Assert.Null(failed.FailedAt);
            Assert.Null(failed.LeaseToken);
            Assert.Null(failed.LeaseUntil);
            Assert.Equal("test: down", failed.LastError);

            // Not before its time: not now, not a moment before it is due.
            Assert.Equal(0, await host.Outbox.DispatchOnceAsync());
            host.Time.Advance(delay - TimeSpan.FromMilliseconds(1));
            Assert.Equal(0, await host.Outbox.DrainAsync());
            host.Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(3, host.Sent.Attempts);
        Assert.Empty(host.Sent.Messages);

        host.Sent.FailWith = null;
        Assert.Equal(1, await host.Outbox.DispatchOnceAsync());
        var delivered = await OutboxSupport.MessageAsync(host, id);
        Assert.Equal(host.Time.GetUtcNow(), delivered.ProcessedAt);
        Assert.Equal(4, delivered.Attempts);
        Assert.Null(delivered.FailedAt);
        Assert.Null(delivered.LeaseToken);

        host.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await host.Outbox.DrainAsync());
        Assert.Equal(4, host.Sent.Attempts);
        Assert.Single(host.Sent.Messages, m => m.DedupeKey == "ping-1");
    }

    [Fact]
    public async Task A_provider_asking_to_retry_later_than_the_backoff_is_not_called_before_that()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.RetryBaseDelay = Base);
        var id = await OutboxSupport.EnqueueAsync(host, "ping-1");
        var retryAfter = TimeSpan.FromMinutes(10);
        host.Sent.FailWith = new ProviderException("test", "rate limited", transient: true, retryAfter: retryAfter);

        Assert.Equal(1, await host.Outbox.DispatchOnceAsync());
        Assert.Equal(TestHost.Start + retryAfter, (await OutboxSupport.MessageAsync(host, id)).AvailableAt);

        host.Sent.FailWith = null;
        host.Time.Advance(retryAfter - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await host.Outbox.DrainAsync());
        Assert.Equal(1, host.Sent.Attempts);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await host.Outbox.DrainAsync());
        Assert.Single(host.Sent.Messages, m => m.DedupeKey == "ping-1");
    }

    [Fact]
    public async Task A_retry_after_shorter_than_the_backoff_does_not_shorten_it()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.RetryBaseDelay = Base);
        var id = await OutboxSupport.EnqueueAsync(host, "ping-1");
        host.Sent.FailWith = new ProviderException("test", "busy", transient: true, retryAfter: TimeSpan.FromSeconds(1));

        Assert.Equal(1, await host.Outbox.DispatchOnceAsync());

        Assert.Equal(TestHost.Start + Base, (await OutboxSupport.MessageAsync(host, id)).AvailableAt);
    }

    [Fact]
    public async Task A_permanent_provider_failure_fails_the_message_for_good_and_keeps_the_error()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.RetryBaseDelay = Base);
        var id = await OutboxSupport.EnqueueAsync(host, "ping-1");
        host.Sent.FailWith = new ProviderException("test", "mailbox does not exist", transient: false);

        Assert.Equal(1, await host.Outbox.DispatchOnceAsync());

        var failed = await OutboxSupport.MessageAsync(host, id);
        Assert.Equal(TestHost.Start, failed.FailedAt);
        Assert.Equal("test: mailbox does not exist", failed.LastError);
        Assert.Equal(1, failed.Attempts);
        Assert.Null(failed.ProcessedAt);
        Assert.Null(failed.LeaseToken);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("failed for good", StringComparison.Ordinal));

        host.Sent.FailWith = null;
        host.Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(0, await host.Outbox.DrainAsync());
        Assert.Equal(1, host.Sent.Attempts);
        Assert.Empty(host.Sent.Messages);
    }

    [Fact]
    public async Task A_message_that_reaches_MaxAttempts_is_failed_with_its_last_error()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.Outbox.RetryBaseDelay = Base;
            o.Outbox.MaxAttempts = 3;
        });
        var id = await OutboxSupport.EnqueueAsync(host, "ping-1");
        host.Sent.FailWith = new ProviderException("test", "still down", transient: true);

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.Null((await OutboxSupport.MessageAsync(host, id)).FailedAt);
            Assert.Equal(1, await host.Outbox.DispatchOnceAsync());
            host.Time.Advance(TimeSpan.FromHours(2));
        }

        var failed = await OutboxSupport.MessageAsync(host, id);
        Assert.Equal(3, failed.Attempts);
        Assert.Equal(TestHost.Start + TimeSpan.FromHours(4), failed.FailedAt);
        Assert.Equal("test: still down", failed.LastError);

        host.Sent.FailWith = null;
        host.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await host.Outbox.DrainAsync());
        Assert.Equal(3, host.Sent.Attempts);
    }

    [Fact]
    public async Task A_handler_throwing_an_unexpected_exception_loses_nothing()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.RetryBaseDelay = Base);
        var first = await OutboxSupport.EnqueueAsync(host, "ping-1");
        var second = await OutboxSupport.EnqueueAsync(host, "ping-2");
        host.Sent.FailWith = new InvalidOperationException("socket closed");

        Assert.Equal(2, await host.Outbox.DrainAsync());

        foreach (var id in new[] { first, second })
        {
            var message = await OutboxSupport.MessageAsync(host, id);
            Assert.Null(message.FailedAt);
            Assert.Null(message.ProcessedAt);
            Assert.Equal(1, message.Attempts);
            Assert.Equal("InvalidOperationException: socket closed", message.LastError);
            Assert.Equal(TestHost.Start + Base, message.AvailableAt);
        }

        host.Sent.FailWith = null;
        host.Time.Advance(Base);
        Assert.Equal(2, await host.Outbox.DrainAsync());
        Assert.Equal(new[] { "ping-1", "ping-2" }, host.Sent.Messages.Select(m => m.DedupeKey));
        Assert.Equal(0, await host.QueryAsync(db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null)));
    }

    [Fact]
    public async Task Ledger_events_of_one_voucher_reach_the_ledger_in_order_even_when_the_first_is_held_back()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var alice = await host.CreateCustomerAsync("alice@example.ch");
        await host.CreateCustomerAsync("bob@example.ch");
        var (_, vouchers) = await host.BuyAsync(alice, campaign.Id);
        var voucher = Assert.Single(vouchers);
        await host.RunAsync<GiftService, Gift>(s => s.SendAsync(alice, new SendGift(voucher.Id, "bob@example.ch")));
        var gifted = await host.VoucherAsync(voucher.Id);
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, gifted.DisplayCode, null, "till-1"));

        var orderingKey = $"voucher:{voucher.Id:N}";
        var ledgerMessages = await host.QueryAsync(db => db.OutboxMessages.Where(m => m.OrderingKey == orderingKey).OrderBy(m => m.Id).ToListAsync());
        Assert.Equal(3, ledgerMessages.Count);
        Assert.All(ledgerMessages, m => Assert.Equal(OutboxTypes.LedgerRecord, m.Type));

        // The Issued event is held back (as if it were in backoff): the later events must wait for it.
        var issuedId = ledgerMessages[0].Id;
        var later = TestHost.Start + TimeSpan.FromMinutes(5);
        await host.QueryAsync(db => db.OutboxMessages.Where(m => m.Id == issuedId).ExecuteUpdateAsync(s => s.SetProperty(m => m.AvailableAt, later)));
        Assert.True(await host.Outbox.DrainAsync() > 0);
        Assert.Equal(0, await host.QueryAsync(db => db.LedgerRecords.CountAsync(r => r.VoucherId == voucher.Id)));
        Assert.NotEmpty(host.Sent.Messages); // other keys went ahead

        host.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(3, await host.Outbox.DrainAsync());

        var records = await host.QueryAsync(db => db.LedgerRecords.Where(r => r.VoucherId == voucher.Id).OrderBy(r => r.Sequence).ToListAsync());
        Assert.Equal(new[] { "Issued", "Transferred", "Redeemed" }, records.Select(r => r.Canonical.Split('|')[2]));
        Assert.Equal(ledgerMessages.Select(m => m.DedupeKey), records.Select(r => $"ledger:{r.EventId:N}"));
    }

    [Fact]
    public async Task A_blocked_message_holds_back_later_messages_of_its_ordering_key_but_not_of_other_keys()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.RetryBaseDelay = Base);
        host.Sent.FailWith = new ProviderException("test", "down", transient: true);
        var a1 = await OutboxSupport.EnqueueAsync(host, "a1", "key-a");
        Assert.Equal(1, await host.Outbox.DispatchOnceAsync());
        host.Sent.FailWith = null;

        var a2 = await OutboxSupport.EnqueueAsync(host, "a2", "key-a");
        await OutboxSupport.EnqueueAsync(host, "b1", "key-b");
        await OutboxSupport.EnqueueAsync(host, "b2", "key-b");
        await OutboxSupport.EnqueueAsync(host, "free", null);

        Assert.Equal(3, await host.Outbox.DrainAsync());
        Assert.Equal(new[] { "b1", "free", "b2" }, host.Sent.Messages.Select(m => m.DedupeKey));
        var held = await OutboxSupport.MessageAsync(host, a2);
        Assert.Equal(0, held.Attempts);
        Assert.Null(held.ProcessedAt);

        host.Time.Advance(Base);
        Assert.Equal(2, await host.Outbox.DrainAsync());
        Assert.Equal(new[] { "b1", "free", "b2", "a1", "a2" }, host.Sent.Messages.Select(m => m.DedupeKey));
        Assert.NotNull((await OutboxSupport.MessageAsync(host, a1)).ProcessedAt);
    }

    [Fact]
    public async Task Four_dispatchers_racing_over_200_messages_deliver_each_exactly_once()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.Outbox.LeaseDuration = TimeSpan.FromMinutes(30);
            o.Outbox.BatchSize = 3;
        });
        const int count = 200;
        await OutboxSupport.EnqueueManyAsync(host, Enumerable.Range(0, count).Select(i => $"bulk-{i}"));
        var dispatchers = Enumerable.Range(0, 4).Select(_ => ActivatorUtilities.CreateInstance<OutboxDispatcher>(host.Services)).ToArray();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var work = dispatchers.Select((dispatcher, i) => Task.Run(async () =>
        {
            await gate.Task;
            if (i % 2 == 0)
            {
                return await dispatcher.DrainAsync();
            }

            var total = 0;
            for (var round = 0; round < 1000; round++)
            {
                var attempted = await dispatcher.DispatchOnceAsync();
                if (attempted == 0)
                {
                    break;
                }

                total += attempted;
            }

            return total;
        })).ToArray();
        gate.SetResult();
        var attemptedPerDispatcher = await Task.WhenAll(work);

        Assert.Equal(count, attemptedPerDispatcher.Sum());
        Assert.Equal(count, host.Sent.Attempts);
        var perKey = host.Sent.Messages.GroupBy(m => m.DedupeKey).ToList();
        Assert.Equal(count, perKey.Count);
        Assert.All(perKey, g => Assert.Single(g));
        var rows = await host.QueryAsync(db => db.OutboxMessages.AsNoTracking().ToListAsync());
        Assert.All(rows, m =>
        {
            Assert.NotNull(m.ProcessedAt);
            Assert.Equal(1, m.Attempts);
            Assert.Null(m.LeaseToken);
        });
        Assert.Equal(0, await host.Outbox.DrainAsync());
    }

    [Fact]
    public async Task Racing_dispatchers_never_retry_a_failed_message_before_its_backoff()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.Outbox.LeaseDuration = TimeSpan.FromMinutes(30);
            o.Outbox.BatchSize = 3;
        });
        const int count = 200;
        await OutboxSupport.EnqueueManyAsync(host, Enumerable.Range(0, count).Select(i => $"bulk-{i}"));
        host.Sent.FailWith = new ProviderException("test", "down", transient: true, retryAfter: TimeSpan.FromMinutes(5));
        var dispatchers = Enumerable.Range(0, 4).Select(_ => ActivatorUtilities.CreateInstance<OutboxDispatcher>(host.Services)).ToArray();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var work = dispatchers.Select(dispatcher => Task.Run(async () =>
        {
            await gate.Task;
            return await dispatcher.DrainAsync();
        })).ToArray();
        gate.SetResult();
        await Task.WhenAll(work);

        // The clock stood still: each message was due once, so each was tried once and now waits 5 minutes.
        Assert.Equal(count, host.Sent.Attempts);
        var rows = await host.QueryAsync(db => db.OutboxMessages.AsNoTracking().ToListAsync());
        Assert.All(rows, m =>
        {
            Assert.Equal(1, m.Attempts);
            Assert.Equal(TestHost.Start + TimeSpan.FromMinutes(5), m.AvailableAt);
        });
    }

    [Fact]
    public async Task A_lease_left_behind_by_a_crashed_dispatcher_lets_another_take_the_message_once_it_lapses()
    {
        await using var host = await TestHost.StartAsync(o => o.Outbox.LeaseDuration = TimeSpan.FromMinutes(2));
        var id = await OutboxSupport.EnqueueAsync(host, "ping-1");

        // A dispatcher claimed the message and died before finishing it.
        var crashedLease = Guid.NewGuid();
        var leaseUntil = TestHost.Start + TimeSpan.FromMinutes(2);
        await host.QueryAsync(db => db.OutboxMessages.Where(m => m.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseToken, crashedLease).SetProperty(m => m.LeaseUntil, leaseUntil)));

        Assert.Equal(0, await host.Outbox.DrainAsync());
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await host.Outbox.DrainAsync());
        Assert.Empty(host.Sent.Messages);

        host.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var other = ActivatorUtilities.CreateInstance<OutboxDispatcher>(host.Services);
        Assert.Equal(1, await other.DrainAsync());

        Assert.Single(host.Sent.Messages, m => m.DedupeKey == "ping-1");
        var message = await OutboxSupport.MessageAsync(host, id);
        Assert.NotNull(message.ProcessedAt);
        Assert.Null(message.LeaseToken);
        Assert.Null(message.LeaseUntil);
        Assert.Equal(0, await host.Outbox.DrainAsync());
    }
}

/// <summary>Puts test notifications (channel "test") straight into the outbox and reads them back.</summary>
internal static class OutboxSupport
{
    public static async Task<long> EnqueueAsync(TestHost host, string dedupeKey, string? orderingKey = null)
    {
        await EnqueueManyAsync(host, [dedupeKey], orderingKey);
        return await host.QueryAsync(db => db.OutboxMessages.Where(m => m.DedupeKey == "notify:" + dedupeKey).Select(m => m.Id).SingleAsync());
    }

    public static async Task EnqueueManyAsync(TestHost host, IEnumerable<string> dedupeKeys, string? orderingKey = null)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var writer = scope.ServiceProvider.GetRequiredService<OutboxWriter>();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        foreach (var key in dedupeKeys)
        {
            var message = new NotificationMessage("test.ping", new NotificationRecipient(null, "someone@example.ch", "Someone"), "en", new Dictionary<string, string> { ["key"] = key }, key);
            writer.Add(OutboxTypes.Notification, new NotificationEnvelope("test", message), "notify:" + key, orderingKey);
        }

        await db.SaveChangesAsync();
    }

    public static Task<OutboxMessage> MessageAsync(TestHost host, long id) =>
        host.QueryAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == id));
}
