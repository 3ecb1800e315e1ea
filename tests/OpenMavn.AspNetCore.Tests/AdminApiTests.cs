using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.AspNetCore.Apis;
using OpenMavn.Core;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;
using static OpenMavn.AspNetCore.Apis.AdminApi;

namespace OpenMavn.AspNetCore.Tests;

public sealed class AdminApiTests
{
    [Fact]
    public async Task A_merchant_registered_through_Core_is_reviewed_end_to_end_and_a_rejection_needs_a_comment()
    {
        await using var host = await ApiHost.StartAsync();
        var (admin, adminId) = await host.SignInAsync(ApiHost.AdminEmail, ApiHost.AdminPassword);
        var (_, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.RegisterMerchantAsync(host, ownerId);
        var waiting = await AdminTestKit.RegisterMerchantAsync(host, ownerId, "Bäckerei Mond", submit: false);

        var inReview = await admin.GetFromJsonAsync<List<MerchantAdminView>>("/api/admin/merchants?kycStatus=InReview", ApiHost.Json);
        Assert.Equal([merchantId], inReview!.Select(m => m.Id));
        var all = await admin.GetFromJsonAsync<List<MerchantAdminView>>("/api/admin/merchants", ApiHost.Json);
        Assert.Equal([waiting, merchantId], all!.Select(m => m.Id));
        Assert.Single((await admin.GetFromJsonAsync<List<MerchantAdminView>>("/api/admin/merchants?skip=1&take=1", ApiHost.Json))!);

        var asked = await AdminTestKit.OkAsync<MerchantAdminView>(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/kyc/request-data", new { comment = "Please upload the commercial register extract." }));
        Assert.Equal(KycStatus.RequiresData, asked.KycStatus);
        Assert.Equal("Please upload the commercial register extract.", asked.KycComment);
        await AdminTestKit.RunAsync<MerchantService>(host, s => s.SubmitForReviewAsync(Actor.Member(ownerId), merchantId));

        foreach (var body in new object?[] { null, new { }, new { comment = "   " } })
        {
            var refused = await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/kyc/reject", body);
            var problem = await AdminTestKit.ProblemAsync(refused, HttpStatusCode.BadRequest, "validation_failed");
            Assert.Equal(["comment"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        }

        var approved = await AdminTestKit.OkAsync<MerchantAdminView>(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/kyc/approve", new { comment = "Register extract checked." }));
        Assert.Equal(KycStatus.Approved, approved.KycStatus);
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/kyc/reject", new { comment = "Too late." }), HttpStatusCode.Conflict, "merchant.kyc_state");
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{waiting}/kyc/approve"), HttpStatusCode.Conflict, "merchant.kyc_state");
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{Guid.NewGuid()}/kyc/approve"), HttpStatusCode.NotFound, "merchant.not_found");
        await AdminTestKit.ProblemAsync(await admin.GetAsync($"/api/admin/merchants/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "merchant.not_found");

        var detail = await admin.GetFromJsonAsync<MerchantDetailView>($"/api/admin/merchants/{merchantId}", ApiHost.Json);
        Assert.Equal(KycStatus.Approved, detail!.Merchant.KycStatus);
        Assert.Equal([(ownerId, MerchantRole.Owner)], detail.Members.Select(m => (m.UserId, m.Role)));
        Assert.Null(detail.PaymentAccount);
        Assert.Equal(
            [
                (KycStatus.Pending, KycStatus.InReview, (string?)null),
                (KycStatus.InReview, KycStatus.RequiresData, "Please upload the commercial register extract."),
                (KycStatus.RequiresData, KycStatus.InReview, null),
                (KycStatus.InReview, KycStatus.Approved, "Register extract checked."),
            ],
            detail.KycHistory.Select(r => (r.From, r.To, r.Comment)));
        Assert.Equal($"Admin:{adminId}", detail.KycHistory[^1].Actor);
        Assert.Equal($"MerchantMember:{ownerId}", detail.KycHistory[0].Actor);
        Assert.Equal([merchantId], (await admin.GetFromJsonAsync<List<MerchantAdminView>>("/api/admin/merchants?kycStatus=Approved", ApiHost.Json))!.Select(m => m.Id));
        Assert.Empty((await admin.GetFromJsonAsync<List<MerchantAdminView>>("/api/admin/merchants?kycStatus=InReview", ApiHost.Json))!);
        await AdminTestKit.ProblemAsync(await admin.GetAsync("/api/admin/merchants?kycStatus=Sleepy"), HttpStatusCode.BadRequest, "request.malformed");

        // Only the two successful decisions are in the audit log: not the refused ones, not the reads.
        var audit = (await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit", ApiHost.Json))!;
        Assert.Equal(
            [
                ("merchants.kyc.approve", $"merchants/{merchantId}", (string?)"Register extract checked.", 200),
                ("merchants.kyc.request-data", $"merchants/{merchantId}", "Please upload the commercial register extract.", 200),
            ],
            audit.Select(e => (e.Action, e.Target, e.Details, e.Outcome)));
        Assert.All(audit, e => Assert.Equal(adminId, e.ActorId));
    }

    [Fact]
    public async Task Suspending_a_merchant_stops_sales_and_reinstating_it_restores_them()
    {
        await using var host = await ApiHost.StartAsync();
        var admin = await host.AdminAsync();
        var (_, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var campaignId = await AdminTestKit.PublishedCampaignAsync(host, ownerId, merchantId);
        var (customer, _) = await host.CustomerAsync();

        var noReason = await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/suspend", new { reason = "" });
        var problem = await AdminTestKit.ProblemAsync(noReason, HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["reason"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));

        var suspended = await AdminTestKit.OkAsync<MerchantAdminView>(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/suspend", new { reason = "Chargebacks under investigation." }));
        Assert.NotNull(suspended.SuspendedAt);
        Assert.Equal("Chargebacks under investigation.", suspended.SuspensionReason);

        await AdminTestKit.ProblemAsync(await AdminTestKit.OrderAsync(customer, campaignId), HttpStatusCode.Conflict, "campaign.not_on_sale");
        Assert.Empty((await customer.GetFromJsonAsync<List<CampaignView>>($"/api/campaigns?merchantId={merchantId}", ApiHost.Json))!);
        Assert.Empty(await Db(host, db => db.Orders.ToListAsync()));

        var reinstated = await AdminTestKit.OkAsync<MerchantAdminView>(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/reinstate"));
        Assert.Null(reinstated.SuspendedAt);
        Assert.Null(reinstated.SuspensionReason);

        Assert.Equal(HttpStatusCode.Created, (await AdminTestKit.OrderAsync(customer, campaignId)).StatusCode);
        Assert.Equal([campaignId], (await customer.GetFromJsonAsync<List<CampaignView>>($"/api/campaigns?merchantId={merchantId}", ApiHost.Json))!.Select(c => c.Id));
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{Guid.NewGuid()}/suspend", new { reason = "x" }), HttpStatusCode.NotFound, "merchant.not_found");
    }

    [Fact]
    public async Task Operators_see_campaigns_in_every_state_and_pause_end_or_cancel_them()
    {
        await using var host = await ApiHost.StartAsync();
        var admin = await host.AdminAsync();
        var (_, ownerId) = await host.SignUpAsync();
        var (_, otherOwnerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var otherMerchantId = await AdminTestKit.ApprovedMerchantAsync(host, otherOwnerId, "Bäckerei Mond");
        var draft = await AdminTestKit.DraftCampaignAsync(host, ownerId, merchantId);
        var published = await AdminTestKit.PublishedCampaignAsync(host, ownerId, merchantId);
        var elsewhere = await AdminTestKit.PublishedCampaignAsync(host, otherOwnerId, otherMerchantId);
        var (customer, _) = await host.CustomerAsync();

        var ofMerchant = (await admin.GetFromJsonAsync<List<CampaignView>>($"/api/admin/campaigns?merchantId={merchantId}", ApiHost.Json))!;
        Assert.Equal(new[] { draft, published }.Order(), ofMerchant.Select(c => c.Id).Order());
        Assert.Contains(ofMerchant, c => c.Id == draft && c.State == Core.Campaigns.CampaignState.Draft);
        var everywhere = await admin.GetFromJsonAsync<List<CampaignView>>("/api/admin/campaigns", ApiHost.Json);
        Assert.Equal(new[] { draft, published, elsewhere }.Order(), everywhere!.Select(c => c.Id).Order());

        var paused = await AdminTestKit.OkAsync<CampaignView>(await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{published}/pause", new { reason = "Misleading description." }));
        Assert.Equal(Core.Campaigns.CampaignState.Paused, paused.State);
        await AdminTestKit.ProblemAsync(await AdminTestKit.OrderAsync(customer, published), HttpStatusCode.Conflict, "campaign.not_on_sale");
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{published}/pause"), HttpStatusCode.Conflict, "campaign.state");

        var ended = await AdminTestKit.OkAsync<CampaignView>(await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{published}/end"));
        Assert.Equal(Core.Campaigns.CampaignState.Ended, ended.State);
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{published}/cancel"), HttpStatusCode.Conflict, "campaign.closed");

        var cancelled = await AdminTestKit.OkAsync<CampaignView>(await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{draft}/cancel"));
        Assert.Equal(Core.Campaigns.CampaignState.Cancelled, cancelled.State);

        // A campaign with a sale can be ended but not cancelled.
        await AdminTestKit.BuyAsync(host, customer, elsewhere);
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{elsewhere}/cancel"), HttpStatusCode.Conflict, "campaign.has_sales");
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{Guid.NewGuid()}/pause"), HttpStatusCode.NotFound, "campaign.not_found");

        var states = (await admin.GetFromJsonAsync<List<CampaignView>>($"/api/admin/campaigns?merchantId={merchantId}", ApiHost.Json))!;
        Assert.Equal(
            new[] { (draft, Core.Campaigns.CampaignState.Cancelled), (published, Core.Campaigns.CampaignState.Ended) }.Order(),
            states.Select(c => (c.Id, c.State)).Order());
        var audit = (await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit", ApiHost.Json))!;
        Assert.Equal(
            [("campaigns.cancel", $"campaigns/{draft}", (string?)null), ("campaigns.end", $"campaigns/{published}", null), ("campaigns.pause", $"campaigns/{published}", "Misleading description.")],
            audit.Select(e => (e.Action, e.Target, e.Details)));
    }

    [Fact]
    public async Task A_voucher_found_by_its_code_shows_its_history_and_an_operator_refund_is_idempotent()
    {
        await using var host = await ApiHost.StartAsync();
        var admin = await host.AdminAsync();
        var (_, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var campaignId = await AdminTestKit.PublishedCampaignAsync(host, ownerId, merchantId);
        var (customer, customerId) = await host.CustomerAsync();
        var (voucher, _) = await AdminTestKit.BuyAsync(host, customer, campaignId);

        // As read out on the phone: lower case, without dashes.
        var typed = voucher.Code!.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        var found = await AdminTestKit.OkAsync<VoucherDetailView>(await admin.GetAsync($"/api/admin/vouchers/by-code/{typed}"));
        Assert.Equal(voucher.Id, found.Voucher.Id);
        Assert.Equal(voucher.Code, found.Voucher.Code);
        var issued = Assert.Single(found.Activity);
        Assert.Equal(VoucherActivityKind.Issued, issued.Kind);
        Assert.Equal(customerId, issued.ToOwnerId);
        Assert.Equal(5000, issued.BalanceAfter);
        var byId = await AdminTestKit.OkAsync<VoucherDetailView>(await admin.GetAsync($"/api/admin/vouchers/{voucher.Id}"));
        Assert.Equal(found.Voucher, byId.Voucher);

        await AdminTestKit.ProblemAsync(await admin.GetAsync("/api/admin/vouchers/by-code/not-a-code"), HttpStatusCode.BadRequest, "validation_failed");
        await AdminTestKit.ProblemAsync(await admin.GetAsync($"/api/admin/vouchers/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "voucher.not_found");

        var url = $"/api/admin/vouchers/{voucher.Id}/refund";
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, url, new { reason = "Shop closed." }), HttpStatusCode.BadRequest, "request.malformed");
        var noReason = await AdminTestKit.ProblemAsync(await ApiHost.PostIdempotentAsync(admin, url, new { reason = " " }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(noReason.GetProperty("errors").TryGetProperty("reason", out _));

        var first = await ApiHost.PostIdempotentAsync(admin, url, new { reason = "Shop closed for good." }, "refund-1");
        var refund = await AdminTestKit.OkAsync<RefundView>(first);
        Assert.Equal((voucher.Id, merchantId, 4500L, "CHF", "Shop closed for good."), (refund.VoucherId!.Value, refund.MerchantId, refund.Amount.Amount, refund.Amount.Currency, refund.Reason));
        Assert.Equal(RefundStatus.Requested, refund.Status);

        var replay = await ApiHost.PostIdempotentAsync(admin, url, new { reason = "Shop closed for good." }, "refund-1");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(refund, await replay.Content.ReadFromJsonAsync<RefundView>(ApiHost.Json));
        await AdminTestKit.ProblemAsync(await ApiHost.PostIdempotentAsync(admin, url, new { reason = "Shop closed for good." }, "refund-2"), HttpStatusCode.Conflict, "voucher.not_active");
        Assert.Single(await Db(host, db => db.Refunds.ToListAsync()));

        await host.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();
        Assert.Equal(RefundStatus.Completed, (await Db(host, db => db.Refunds.SingleAsync())).Status);
        var after = await AdminTestKit.OkAsync<VoucherDetailView>(await admin.GetAsync($"/api/admin/vouchers/by-code/{voucher.Code}"));
        Assert.Equal(VoucherStatus.Refunded, after.Voucher.Status);
        Assert.Equal([VoucherActivityKind.Issued, VoucherActivityKind.Refunded], after.Activity.Select(a => a.Kind));
        Assert.StartsWith("Admin:", after.Activity[1].Actor, StringComparison.Ordinal);
        var seenByCustomer = await customer.GetFromJsonAsync<VoucherDetailView>($"/api/customer/vouchers/{voucher.Id}", ApiHost.Json);
        Assert.Equal(VoucherStatus.Refunded, seenByCustomer!.Voucher.Status);

        // One refund, one audit entry: the replay and the refused attempts are not recorded.
        var audit = (await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit", ApiHost.Json))!;
        Assert.Equal([("vouchers.refund", $"vouchers/{voucher.Id}", (string?)"Shop closed for good.", 200)], audit.Select(e => (e.Action, e.Target, e.Details, e.Outcome)));
    }

    [Fact]
    public async Task Every_successful_admin_action_appends_one_audit_entry_and_reads_append_none()
    {
        await using var host = await ApiHost.StartAsync();
        var (admin, adminId) = await host.SignInAsync(ApiHost.AdminEmail, ApiHost.AdminPassword);
        var (_, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var campaignId = await AdminTestKit.PublishedCampaignAsync(host, ownerId, merchantId);

        foreach (var read in new[] { "/api/admin/merchants", $"/api/admin/merchants/{merchantId}", "/api/admin/campaigns", "/api/admin/audit", "/api/admin/statistics", "/api/admin/statistics.csv", "/api/admin/outbox/failed" })
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(read)).StatusCode);
        }

        Assert.Empty((await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit", ApiHost.Json))!);

        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        Assert.Equal(HttpStatusCode.OK, (await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/suspend", new { reason = "Complaints, see ticket 42." })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/reinstate")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{campaignId}/pause", new { reason = "=HYPERLINK(\"http://evil\")" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await AdminTestKit.PostAsync(admin, $"/api/admin/campaigns/{campaignId}/pause")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await AdminTestKit.PostAsync(admin, $"/api/admin/merchants/{merchantId}/suspend")).StatusCode);
        var after = DateTimeOffset.UtcNow.AddSeconds(1);

        var audit = (await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit", ApiHost.Json))!;
        Assert.Equal(
            [
                ("campaigns.pause", $"campaigns/{campaignId}", (string?)"=HYPERLINK(\"http://evil\")"),
                ("merchants.reinstate", $"merchants/{merchantId}", null),
                ("merchants.suspend", $"merchants/{merchantId}", "Complaints, see ticket 42."),
            ],
            audit.Select(e => (e.Action, e.Target, e.Details)));
        Assert.All(audit, e => Assert.Equal((adminId, 200), (e.ActorId, e.Outcome)));
        Assert.All(audit, e => Assert.InRange(e.At, before, after));
        Assert.True(audit[0].Id > audit[1].Id && audit[1].Id > audit[2].Id);

        var page = (await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit?skip=1&take=1", ApiHost.Json))!;
        Assert.Equal("merchants.reinstate", Assert.Single(page).Action);
    }

    [Fact]
    public async Task Statistics_after_sales_a_redemption_and_a_refund_are_right_and_the_csv_parses()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["OpenMavn:Fees:PlatformBasisPoints"] = "200", ["OpenMavn:Fees:PaymentFixed"] = "30" });
        var admin = await host.AdminAsync();
        var (_, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var campaignId = await AdminTestKit.PublishedCampaignAsync(host, ownerId, merchantId);
        var (customer, _) = await host.CustomerAsync();
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);

        var (redeemed, _) = await AdminTestKit.BuyAsync(host, customer, campaignId);
        var (refunded, _) = await AdminTestKit.BuyAsync(host, customer, campaignId);
        await AdminTestKit.RunAsync<RedemptionService>(host, s => s.RedeemAsync(Actor.Member(ownerId), merchantId, redeemed.Code!, 2000, "till-1"));
        await AdminTestKit.OkAsync<RefundView>(await ApiHost.PostIdempotentAsync(admin, $"/api/admin/vouchers/{refunded.Id}/refund", new { reason = "Wrong voucher bought." }));
        var end = DateTimeOffset.UtcNow.AddMinutes(1);
        var period = $"from={Uri.EscapeDataString(start.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(end.ToString("O", CultureInfo.InvariantCulture))}";

        var statistics = await AdminTestKit.OkAsync<StatisticsView>(await admin.GetAsync($"/api/admin/statistics?{period}"));
        Assert.Equal((start, end), (statistics.From, statistics.To));
        var chf = Assert.Single(statistics.Currencies);

        // Two CHF 50 vouchers sold for CHF 45 each; fees 2 % + 0.30 per sale; CHF 20 redeemed; one voucher refunded.
        Assert.Equal(
            ("CHF", 10_000L, 9_000L, 2_000L, 0L, 5_000L, 3_000L, 2 * (90L + 30L)),
            (chf.Currency, chf.Sold.Amount, chf.Collected.Amount, chf.Redeemed.Amount, chf.Breakage.Amount, chf.Refunded.Amount, chf.Outstanding.Amount, chf.Fees.Amount));
        Assert.Equal("CHF 100.00", chf.Sold.Display);

        // A later period: nothing happened in it, but the CHF 30 still outstanding at its end is.
        var later = await AdminTestKit.OkAsync<StatisticsView>(await admin.GetAsync($"/api/admin/statistics?from={Uri.EscapeDataString(end.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(end.AddDays(1).ToString("O", CultureInfo.InvariantCulture))}"));
        var quiet = Assert.Single(later.Currencies);
        Assert.Equal((0L, 0L, 3_000L), (quiet.Sold.Amount, quiet.Redeemed.Amount, quiet.Outstanding.Amount));

        var backwards = await admin.GetAsync($"/api/admin/statistics?from={Uri.EscapeDataString(end.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(start.ToString("O", CultureInfo.InvariantCulture))}");
        Assert.True((await AdminTestKit.ProblemAsync(backwards, HttpStatusCode.BadRequest, "validation_failed")).GetProperty("errors").TryGetProperty("to", out _));
        await AdminTestKit.ProblemAsync(await admin.GetAsync("/api/admin/statistics?from=yesterday"), HttpStatusCode.BadRequest, "request.malformed");

        var csv = await admin.GetAsync($"/api/admin/statistics.csv?{period}");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", csv.Content.Headers.ContentDisposition?.DispositionType);
        var rows = ParseCsv(await csv.Content.ReadAsStringAsync());
        Assert.Equal(["currency", "from", "to", "sold", "collected", "redeemed", "breakage", "refunded", "outstanding", "fees"], rows[0]);
        var row = Assert.Single(rows.Skip(1));
        Assert.Equal("CHF", row[0]);
        Assert.Equal(start.UtcDateTime, DateTimeOffset.Parse(row[1], CultureInfo.InvariantCulture).UtcDateTime, TimeSpan.FromSeconds(1));
        Assert.Equal(end.UtcDateTime, DateTimeOffset.Parse(row[2], CultureInfo.InvariantCulture).UtcDateTime, TimeSpan.FromSeconds(1));
        Assert.Equal(new[] { 100.00m, 90.00m, 20.00m, 0m, 50.00m, 30.00m, 2.40m }, row.Skip(3).Select(c => decimal.Parse(c, NumberStyles.Number, CultureInfo.InvariantCulture)));
        Assert.Equal("100.00", row[3]);
    }

    [Fact]
    public void Csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised_and_amounts_stay_numbers()
    {
        Assert.Equal("'=HYPERLINK(\"\"http://evil\"\")", StatisticsCsv.Cell("=HYPERLINK(\"http://evil\")").Trim('"'));
        Assert.Equal("\"'=1+1,2\"", StatisticsCsv.Cell("=1+1,2"));
        foreach (var dangerous in new[] { "+41 44", "-2+3", "@SUM(A1)", "\tx", "\rx" })
        {
            Assert.StartsWith("'", StatisticsCsv.Cell(dangerous).TrimStart('"'), StringComparison.Ordinal);
        }

        Assert.Equal("CHF", StatisticsCsv.Cell("CHF"));
        Assert.Equal("\"a \"\"b\"\"\"", StatisticsCsv.Cell("a \"b\""));
        Assert.Equal("-3.50", StatisticsCsv.Amount(-350, "CHF"));
        Assert.Equal("1234", StatisticsCsv.Amount(1234, "JPY"));
        Assert.Equal("1.234", StatisticsCsv.Amount(1234, "KWD"));
    }

    [Fact]
    public async Task Failed_outbox_messages_are_listed_for_operators_and_a_retry_puts_them_back_in_the_queue()
    {
        await using var host = await ApiHost.StartAsync();
        var admin = await host.AdminAsync();
        var dispatcher = host.Services.GetRequiredService<OutboxDispatcher>();
        long id;
        await using (var scope = host.Services.CreateAsyncScope())
        {
            // A message no handler of this host delivers: the dispatcher gives it up at once, as a permanent failure.
            scope.ServiceProvider.GetRequiredService<OutboxWriter>().Add("webhook.partner", new { orderId = Guid.NewGuid() }, "partner:1");
            var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            await db.SaveChangesAsync();
            id = await db.OutboxMessages.Where(m => m.DedupeKey == "partner:1").Select(m => m.Id).SingleAsync();
        }

        await dispatcher.DrainAsync();
        var failed = (await admin.GetFromJsonAsync<List<FailedOutboxMessageView>>("/api/admin/outbox/failed", ApiHost.Json))!;
        var message = Assert.Single(failed);
        Assert.Equal((id, "webhook.partner", 1), (message.Id, message.Type, message.Attempts));
        Assert.Contains("No handler", message.LastError, StringComparison.Ordinal);

        var retried = await AdminTestKit.PostAsync(admin, $"/api/admin/outbox/{id}/retry");
        Assert.Equal(HttpStatusCode.NoContent, retried.StatusCode);
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, $"/api/admin/outbox/{id}/retry"), HttpStatusCode.Conflict, "outbox.not_failed");
        await AdminTestKit.ProblemAsync(await AdminTestKit.PostAsync(admin, "/api/admin/outbox/987654/retry"), HttpStatusCode.NotFound, "outbox.not_found");
        Assert.Empty((await admin.GetFromJsonAsync<List<FailedOutboxMessageView>>("/api/admin/outbox/failed", ApiHost.Json))!);
        var queued = await Db(host, db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == id));
        Assert.Equal((null, 0, (DateTimeOffset?)null), (queued.FailedAt, queued.Attempts, queued.ProcessedAt));
        Assert.InRange(queued.AvailableAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);

        // It is delivered again (and, its handler still missing, fails again with a fresh count).
        Assert.Equal(1, await dispatcher.DrainAsync());
        Assert.Equal(1, Assert.Single((await admin.GetFromJsonAsync<List<FailedOutboxMessageView>>("/api/admin/outbox/failed", ApiHost.Json))!).Attempts);

        var audit = (await admin.GetFromJsonAsync<List<AuditEntryView>>("/api/admin/audit", ApiHost.Json))!;
        Assert.Equal([("outbox.retry", $"outbox/{id}", 204)], audit.Select(e => (e.Action, e.Target, e.Outcome)));
    }

    [Fact]
    public async Task Every_admin_route_is_401_for_anonymous_callers_and_API_keys_and_403_for_customers_and_merchant_owners()
    {
        await using var host = await ApiHost.StartAsync();
        var (owner, ownerId) = await host.SignUpAsync();
        var merchantId = await AdminTestKit.ApprovedMerchantAsync(host, ownerId);
        var key = await AdminTestKit.RunAsync<ApiKeyService, CreatedApiKey>(host, s => s.CreateAsync(Actor.Member(ownerId), merchantId, "Till 1"));
        var (customer, _) = await host.CustomerAsync();
        using var anonymous = host.Client();
        using var till = host.Client();
        till.DefaultRequestHeaders.Add("X-Api-Key", key.Secret);

        var routes = ((IEndpointRouteBuilder)host.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith(AdminApi.Prefix + "/", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Select(m => (Method: m, Url: Fill(e.RoutePattern.RawText!))))
            .ToList();
        Assert.Equal(23, routes.Count);

        foreach (var (method, url) in routes)
        {
            foreach (var (client, expected) in new[] { (anonymous, HttpStatusCode.Unauthorized), (till, HttpStatusCode.Unauthorized), (customer, HttpStatusCode.Forbidden), (owner, HttpStatusCode.Forbidden) })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "GET" ? null : JsonContent.Create(new { reason = "x", comment = "x" }) };
                request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
                var response = await client.SendAsync(request);
                Assert.True(response.StatusCode == expected, $"{method} {url}: expected {(int)expected}, got {(int)response.StatusCode}");
            }
        }

        Assert.Equal(0, await Db(host, db => db.AuditEntries.CountAsync()));
        Assert.Null(await Db(host, db => db.Merchants.Where(m => m.Id == merchantId).Select(m => m.SuspendedAt).SingleAsync()));

        static string Fill(string template) => System.Text.RegularExpressions.Regex.Replace(template, "{([^}:?]+)[^}]*}", m => m.Groups[1].Value switch
        {
            "code" => "ABCD-EFGH",
            "messageId" => "1",
            _ => Guid.NewGuid().ToString(),
        });
    }

    private static async Task<T> Db<T>(ApiHost host, Func<OpenMavnDbContext, Task<T>> query)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>());
    }

    /// <summary>A strict RFC 4180 reader: quoted cells, doubled quotes, CRLF records.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"' && cell.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add([.. row]);
                row.Clear();
                i++;
            }
            else
            {
                Assert.False(c is '"' or '\r' or '\n', $"Unexpected {c} at {i} outside quotes.");
                cell.Append(c);
            }
        }

        Assert.False(quoted);
        Assert.All(rows, r => Assert.Equal(rows[0].Length, r.Length));
        return rows;
    }
}
