using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using static OpenMavn.AspNetCore.Apis.AdminApi;

namespace OpenMavn.AspNetCore.Tests;

public sealed class LedgerApiTests
{
    [Fact]
    public async Task Operators_run_list_and_read_reconciliations_and_nobody_else_may()
    {
        await using var host = await ApiHost.StartAsync();
        var admin = await host.AdminAsync();
        var (owner, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var campaignId = await AdminTestKit.PublishedCampaignAsync(host, ownerId, merchantId);
        var (customer, _) = await host.CustomerAsync();
        await AdminTestKit.BuyAsync(host, customer, campaignId);
        await AdminTestKit.BuyAsync(host, customer, campaignId);
        await host.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();

        using var anonymous = host.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/admin/ledger/reconciliations", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/ledger/reconciliations")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.PostAsync("/api/admin/ledger/reconciliations", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/api/admin/ledger/reconciliations")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync($"/api/admin/ledger/reconciliations/{Guid.NewGuid()}")).StatusCode);

        var first = await AdminTestKit.OkAsync<LedgerReconciliationView>(await admin.PostAsync("/api/admin/ledger/reconciliations", null), HttpStatusCode.Created);
        Assert.Equal(DatabaseVoucherLedger.LedgerName, first.Report.Ledger);
        Assert.Equal("manual", first.Report.Trigger);
        Assert.Equal(2, first.Report.VouchersChecked);
        Assert.Equal(0, first.Report.DifferenceCount);
        Assert.Empty(first.Differences);
        Assert.NotNull(first.Report.FinishedAt);

        // Someone changes a balance behind the ledger's back: the next run names it.
        var voucherId = await AdminTestKit.RunAsync<OpenMavnDbContext, Guid>(host, db => db.Vouchers.Select(v => v.Id).FirstAsync());
        await AdminTestKit.RunAsync<OpenMavnDbContext, int>(host, db => db.Vouchers.Where(v => v.Id == voucherId).ExecuteUpdateAsync(s => s.SetProperty(v => v.Balance, 1)));
        var created = await admin.PostAsync("/api/admin/ledger/reconciliations", null);
        var second = await AdminTestKit.OkAsync<LedgerReconciliationView>(created, HttpStatusCode.Created);
        Assert.Equal($"/api/admin/ledger/reconciliations/{second.Report.Id}", created.Headers.Location?.OriginalString);
        var difference = Assert.Single(second.Differences);
        Assert.Equal((LedgerDifferenceKind.BalanceDiffers, voucherId, campaignId, "1", "5000"), (difference.Kind, difference.VoucherId, difference.CampaignId, difference.Expected, difference.Actual));

        var list = (await admin.GetFromJsonAsync<List<LedgerReconciliationSummaryView>>("/api/admin/ledger/reconciliations", ApiHost.Json))!;
        Assert.Equal([second.Report.Id, first.Report.Id], list.Select(r => r.Id));
        Assert.Equal([1L, 0L], list.Select(r => r.DifferenceCount));
        Assert.Equal([first.Report.Id], (await admin.GetFromJsonAsync<List<LedgerReconciliationSummaryView>>("/api/admin/ledger/reconciliations?skip=1&take=1", ApiHost.Json))!.Select(r => r.Id));
        var read = (await admin.GetFromJsonAsync<LedgerReconciliationView>($"/api/admin/ledger/reconciliations/{second.Report.Id}", ApiHost.Json))!;
        Assert.Equal(second.Report, read.Report);
        Assert.Equal(second.Differences, read.Differences);
        await AdminTestKit.ProblemAsync(await admin.GetAsync($"/api/admin/ledger/reconciliations/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "ledger.reconciliation_not_found");

        // A run asked for while another holds the lock is a conflict.
        await AdminTestKit.RunAsync<OpenMavnDbContext, int>(host, db => db.Database.ExecuteSqlRawAsync(
            "UPDATE LedgerReconciliationReports SET RunLock = 'running', HeartbeatAt = {0} WHERE Id = {1}",
            DateTimeOffset.UtcNow.UtcTicks,
            first.Report.Id.ToString().ToUpperInvariant()));
        await AdminTestKit.ProblemAsync(await admin.PostAsync("/api/admin/ledger/reconciliations", null), HttpStatusCode.Conflict, "ledger.reconciliation_running");

        // The runs are in the audit log as operator actions.
        var audit = (await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit", ApiHost.Json))!;
        Assert.Equal(2, audit.Count(e => e.Action == "ledger.reconciliations" && e.Outcome == 201));
    }

    [Fact]
    public async Task Members_see_the_fee_quote_of_a_draft_and_the_database_ledger_quotes_zero()
    {
        await using var host = await ApiHost.StartAsync();
        var (owner, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var draft = await AdminTestKit.DraftCampaignAsync(host, ownerId, merchantId);
        var url = $"/api/merchants/{merchantId}/campaigns/{draft}/ledger-fee";

        var quote = await AdminTestKit.OkAsync<LedgerFeeQuote>(await owner.GetAsync(url));

        Assert.Equal(DatabaseVoucherLedger.LedgerName, quote.Ledger);
        Assert.Equal(100, quote.Vouchers);
        Assert.Equal((0L, 0L, "0", "0", "0", (string?)null, 0m, 0m), (quote.GasPerIssue, quote.GasPerLifecycle, quote.GasPriceWei, quote.IssueTotalWei, quote.LifecycleTotalWei, quote.NativeCurrency, quote.IssueTotalNative, quote.LifecycleTotalNative));

        using var anonymous = host.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);
        var (stranger, strangerId) = await host.SignUpAsync();
        var otherMerchant = await AdminTestKit.ApprovedMerchantAsync(host, strangerId, "Bäckerei Mond");
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync(url)).StatusCode);
        await AdminTestKit.ProblemAsync(await stranger.GetAsync($"/api/merchants/{otherMerchant}/campaigns/{draft}/ledger-fee"), HttpStatusCode.NotFound, "campaign.not_found");
    }

    [Fact]
    public async Task An_estimator_s_numbers_are_passed_through_and_a_chain_that_is_down_is_a_503_with_Retry_After()
    {
        var estimator = new FakeEstimator();
        await using var host = await ApiHost.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IVoucherLedger>(estimator)));
        var (owner, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var draft = await AdminTestKit.DraftCampaignAsync(host, ownerId, merchantId, AdminTestKit.Definition(faceValue: 2500, price: 2000, kind: VoucherKind.SingleUse));
        var url = $"/api/merchants/{merchantId}/campaigns/{draft}/ledger-fee";

        var quote = await AdminTestKit.OkAsync<LedgerFeeQuote>(await owner.GetAsync(url));

        Assert.Equal(new LedgerFeeRequest(draft, 100, 2500, VoucherKind.SingleUse), estimator.Asked);
        Assert.Equal(estimator.Quote, quote);

        estimator.Down = true;
        var response = await owner.GetAsync(url);
        var problem = await AdminTestKit.ProblemAsync(response, HttpStatusCode.ServiceUnavailable, "provider.failed");
        Assert.Contains("fake-chain", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("30", response.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_new_endpoints_with_schemas()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = host.Client();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        var fee = paths.GetProperty("/api/merchants/{merchantId}/campaigns/{campaignId}/ledger-fee").GetProperty("get");
        Assert.Equal("GetCampaignLedgerFee", fee.GetProperty("operationId").GetString());
        Assert.True(fee.GetProperty("responses").TryGetProperty("503", out _));
        Assert.Contains("LedgerFeeQuote", fee.GetProperty("responses").GetProperty("200").GetRawText(), StringComparison.Ordinal);
        var run = paths.GetProperty("/api/admin/ledger/reconciliations").GetProperty("post");
        Assert.Contains("LedgerReconciliationView", run.GetProperty("responses").GetProperty("201").GetRawText(), StringComparison.Ordinal);
        Assert.True(run.GetProperty("responses").TryGetProperty("409", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("LedgerDifference").GetProperty("properties").TryGetProperty("kind", out _));
    }

    private sealed class FakeEstimator : IVoucherLedger, ILedgerFeeEstimator
    {
        public LedgerFeeQuote Quote { get; } = new("fake-chain", 100, 61_000, 140_000, "2000000000", "12200000000000000", "28000000000000000", "ETH", 0.0122m, 0.028m, new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

        public LedgerFeeRequest? Asked { get; private set; }

        public volatile bool Down;

        public string Name => "fake-chain";

        public Task<LedgerFeeQuote> EstimateAsync(LedgerFeeRequest request, CancellationToken cancellationToken = default)
        {
            if (Down)
            {
                throw new HttpRequestException("connection refused (127.0.0.1:8545)");
            }

            Asked = request;
            return Task.FromResult(Quote);
        }

        public Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<LedgerWriteResult>>(events.Select(e => new LedgerWriteResult(e.EventId, LedgerReceiptStatus.Confirmed, "0x1", 1)).ToList());

        public Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<LedgerWriteResult>>(eventIds.Select(id => new LedgerWriteResult(id, LedgerReceiptStatus.Confirmed, "0x1", 1)).ToList());
    }

    [Fact]
    public async Task Retrying_ledger_writes_on_the_database_ledger_points_operators_to_the_outbox_and_checks_the_voucher()
    {
        await using var host = await ApiHost.StartAsync();
        var admin = await host.AdminAsync();
        var (owner, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var campaignId = await AdminTestKit.PublishedCampaignAsync(host, ownerId, merchantId);
        var (customer, _) = await host.CustomerAsync();
        await AdminTestKit.BuyAsync(host, customer, campaignId);
        var voucherId = await AdminTestKit.RunAsync<OpenMavnDbContext, Guid>(host, db => db.Vouchers.Select(v => v.Id).FirstAsync());

        Assert.Equal(HttpStatusCode.Forbidden, (await owner.PostAsync($"/api/admin/ledger/vouchers/{voucherId}/retry", null)).StatusCode);
        await AdminTestKit.ProblemAsync(await admin.PostAsync($"/api/admin/ledger/vouchers/{Guid.NewGuid()}/retry", null), HttpStatusCode.NotFound, "voucher.not_found");
        var problem = await AdminTestKit.ProblemAsync(await admin.PostAsync($"/api/admin/ledger/vouchers/{voucherId}/retry", null), HttpStatusCode.Conflict, "ledger.retry_unsupported");
        Assert.Contains("/api/admin/outbox/failed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
