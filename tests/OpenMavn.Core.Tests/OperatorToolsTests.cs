using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Outbox;

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

    [Fact]
    public async Task Operators_list_campaigns_of_every_state_and_merchant_and_nobody_else_may()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var (otherOwner, otherMerchantId) = await host.CreateApprovedMerchantAsync();
        var draft = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, TestHost.Definition()));
        var published = await host.CreatePublishedCampaignAsync(owner, merchantId);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var cancelled = await host.CreatePublishedCampaignAsync(otherOwner, otherMerchantId);
        await host.RunAsync<CampaignService>(s => s.CancelAsync(otherOwner, cancelled.Id));

        var all = await host.RunAsync<CampaignService, IReadOnlyList<Campaign>>(s => s.ListAllAsync(Admin));
        var ofOne = await host.RunAsync<CampaignService, IReadOnlyList<Campaign>>(s => s.ListAllAsync(Admin, merchantId));
        var paged = await host.RunAsync<CampaignService, IReadOnlyList<Campaign>>(s => s.ListAllAsync(Admin, skip: 1, take: 1));

        Assert.Equal(cancelled.Id, all[0].Id);
        Assert.Equal(new[] { cancelled.Id, draft.Id, published.Id }.Order(), all.Select(c => c.Id).Order());
        Assert.Equal(CampaignState.Cancelled, all[0].State);
        Assert.Equal(new[] { draft.Id, published.Id }.Order(), ofOne.Select(c => c.Id).Order());
        Assert.NotEmpty(ofOne[0].Translations);
        Assert.Single(paged);
        foreach (var notAdmin in new[] { owner, Actor.Customer(Guid.NewGuid()), Actor.System })
        {
            var refused = await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService, IReadOnlyList<Campaign>>(s => s.ListAllAsync(notAdmin, merchantId)));
            Assert.Equal("admin.required", refused.Code);
        }
    }

    [Fact]
    public async Task A_failed_outbox_message_is_listed_for_operators_and_a_retry_delivers_it_once_the_cause_is_fixed()
    {
        await using var host = await TestHost.StartAsync();
        var delivered = await OutboxSupport.EnqueueAsync(host, "fine-1");
        await host.Outbox.DrainAsync();
        var id = await OutboxSupport.EnqueueAsync(host, "bounced-1");
        host.Sent.FailWith = new ProviderException("test", "mailbox does not exist", transient: false);
        await host.Outbox.DrainAsync();
        host.Time.Advance(TimeSpan.FromHours(3));

        var failed = await host.RunAsync<OutboxAdministration, IReadOnlyList<FailedOutboxMessage>>(s => s.ListFailedAsync(Admin));

        var message = Assert.Single(failed);
        Assert.Equal(new FailedOutboxMessage(id, OutboxTypes.Notification, 1, "test: mailbox does not exist", TestHost.Start, TestHost.Start), message);

        host.Sent.FailWith = null;
        await host.RunAsync<OutboxAdministration>(s => s.RetryAsync(Admin, id));

        var queued = await OutboxSupport.MessageAsync(host, id);
        Assert.Null(queued.FailedAt);
        Assert.Equal(0, queued.Attempts);
        Assert.Equal(host.Time.GetUtcNow(), queued.AvailableAt);
        Assert.Empty(await host.RunAsync<OutboxAdministration, IReadOnlyList<FailedOutboxMessage>>(s => s.ListFailedAsync(Admin)));
        Assert.Equal(1, await host.Outbox.DrainAsync());
        Assert.NotNull((await OutboxSupport.MessageAsync(host, id)).ProcessedAt);
        Assert.Contains(host.Sent.Messages, m => m.DedupeKey == "bounced-1");

        // Only a failed message can be retried; an unknown one is not found; nobody but an operator may.
        var notFailed = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<OutboxAdministration>(s => s.RetryAsync(Admin, delivered)));
        Assert.Equal("outbox.not_failed", notFailed.Code);
        var unknown = await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<OutboxAdministration>(s => s.RetryAsync(Admin, 999_999)));
        Assert.Equal("outbox.not_found", unknown.Code);
        var (owner, _) = await host.CreateApprovedMerchantAsync();
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<OutboxAdministration, IReadOnlyList<FailedOutboxMessage>>(s => s.ListFailedAsync(owner)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<OutboxAdministration>(s => s.RetryAsync(owner, id)));
    }
}
