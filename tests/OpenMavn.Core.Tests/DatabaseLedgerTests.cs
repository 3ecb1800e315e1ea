using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

public sealed class DatabaseLedgerTests
{
    [Fact]
    public async Task Draining_the_outbox_records_every_voucher_event_once_with_a_confirmed_receipt_and_an_intact_chain()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(supply: 10) with { ValidityDays = 30 });
        var alice = await host.CreateCustomerAsync("alice@example.ch");
        var bob = await host.CreateCustomerAsync("bob@example.ch");
        var (_, vouchers) = await host.BuyAsync(alice, campaign.Id, 3);
        var (redeemed, gifted, kept) = (vouchers[0], vouchers[1], vouchers[2]);
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, redeemed.DisplayCode, null, "till-1"));
        await host.RunAsync<GiftService, Gift>(s => s.SendAsync(alice, new SendGift(gifted.Id, "bob@example.ch")));
        Assert.Equal(bob.Id, (await host.VoucherAsync(gifted.Id)).OwnerId);
        host.Time.Advance(TimeSpan.FromDays(32));
        Assert.Equal(2, await host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync()));
        Assert.Equal(0, await host.QueryAsync(db => db.LedgerRecords.CountAsync()));

        await host.Outbox.DrainAsync();

        // 3 × Issued, 1 × Redeemed, 1 × Transferred, 2 × Expired (the gifted and the kept voucher).
        var messages = await host.OutboxAsync(OutboxTypes.LedgerRecord);
        Assert.Equal(7, messages.Count);
        Assert.All(messages, m => Assert.NotNull(m.ProcessedAt));
        var records = await host.QueryAsync(db => db.LedgerRecords.AsNoTracking().OrderBy(r => r.Sequence).ToListAsync());
        Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i), records.Select(r => r.Sequence));
        Assert.Equal(messages.Select(m => m.DedupeKey).Order(StringComparer.Ordinal), records.Select(r => $"ledger:{r.EventId:N}").Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "Issued", "Redeemed" }, KindsOf(records, redeemed.Id));
        Assert.Equal(new[] { "Issued", "Transferred", "Expired" }, KindsOf(records, gifted.Id));
        Assert.Equal(new[] { "Issued", "Expired" }, KindsOf(records, kept.Id));

        // Anyone can recompute the chain: SHA-256(previous ‖ "\n" ‖ canonical), from 64 zeros.
        var previous = new string('0', 64);
        foreach (var record in records)
        {
            Assert.Equal(previous, record.PreviousHash);
            Assert.Equal(Sha256Hex(previous + "\n" + record.Canonical), record.Hash);
            previous = record.Hash;
        }

        var receipts = await host.QueryAsync(db => db.LedgerReceipts.AsNoTracking().ToListAsync());
        Assert.Equal(7, receipts.Count);
        foreach (var record in records)
        {
            var receipt = Assert.Single(receipts, r => r.EventId == record.EventId);
            Assert.Equal(LedgerReceiptStatus.Confirmed, receipt.Status);
            Assert.Equal(record.Sequence, receipt.Position);
            Assert.Equal(record.Hash, receipt.TransactionReference);
            Assert.Equal(DatabaseVoucherLedger.LedgerName, receipt.Ledger);
            Assert.Equal(record.VoucherId, receipt.VoucherId);
            Assert.Equal(record.Canonical.Split('|')[2], receipt.Kind.ToString());
        }

        var verification = await host.Services.GetRequiredService<DatabaseVoucherLedger>().VerifyAsync();
        Assert.Equal(new LedgerVerification(true, 7, null, records[^1].Hash), verification);
    }

    [Fact]
    public async Task Recording_the_same_event_twice_is_a_no_op()
    {
        await using var host = await TestHost.StartAsync();
        var ledger = host.Services.GetRequiredService<DatabaseVoucherLedger>();
        var first = NewEvent(host);
        var second = NewEvent(host);

        var written = Assert.Single(await ledger.RecordAsync([first]));
        await ledger.RecordAsync([second]);
        var again = Assert.Single(await ledger.RecordAsync([first]));
        var mixed = await ledger.RecordAsync([second, NewEvent(host), first]);

        Assert.Equal(1, written.Position);
        Assert.Equal(written, again);
        Assert.Equal(new long?[] { 2, 3, 1 }, mixed.Select(r => r.Position));
        Assert.Equal(3, await host.QueryAsync(db => db.LedgerRecords.CountAsync()));
        Assert.True((await ledger.VerifyAsync()).IsIntact);
        var receipts = await ledger.GetReceiptsAsync([first.EventId, Guid.NewGuid()]);
        Assert.Equal(LedgerReceiptStatus.Confirmed, receipts[0].Status);
        Assert.Equal(1, receipts[0].Position);
        Assert.Equal(LedgerReceiptStatus.Pending, receipts[1].Status);
    }

    [Fact]
    public async Task A_ledger_message_delivered_twice_writes_one_record()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var (_, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id);
        await host.Outbox.DrainAsync();
        var before = await host.QueryAsync(db => db.LedgerRecords.AsNoTracking().SingleAsync());

        // At-least-once: the same message comes round again (say its completion was lost).
        await host.QueryAsync(db => db.OutboxMessages.Where(m => m.Type == OutboxTypes.LedgerRecord)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.ProcessedAt, (DateTimeOffset?)null)));
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await host.Outbox.DrainAsync());

        var after = await host.QueryAsync(db => db.LedgerRecords.AsNoTracking().SingleAsync());
        Assert.Equal((before.Sequence, before.Hash, before.EventId), (after.Sequence, after.Hash, after.EventId));
        var receipt = await host.QueryAsync(db => db.LedgerReceipts.AsNoTracking().SingleAsync(r => r.VoucherId == vouchers[0].Id));
        Assert.Equal(1, receipt.Position);
        Assert.Equal(before.Hash, receipt.TransactionReference);
    }

    [Theory]
    [InlineData("change-canonical", 3L, 3L)]
    [InlineData("change-amount-in-canonical", 1L, 1L)]
    [InlineData("change-hash", 4L, 4L)]
    [InlineData("change-previous-hash", 6L, 6L)]
    [InlineData("delete", 3L, 4L)]
    [InlineData("delete", 1L, 2L)]
    public async Task Tampering_with_a_record_makes_verification_name_the_first_broken_sequence(string tampering, long sequence, long firstBroken)
    {
        await using var host = await TestHost.StartAsync();
        var ledger = host.Services.GetRequiredService<DatabaseVoucherLedger>();
        for (var i = 0; i < 6; i++)
        {
            await ledger.RecordAsync([NewEvent(host, amount: 1000 + i)]);
        }

        Assert.True((await ledger.VerifyAsync()).IsIntact);

        var sql = tampering switch
        {
            "change-canonical" => "UPDATE LedgerRecords SET Canonical = Canonical || ' ' WHERE Sequence = {0}",
            "change-amount-in-canonical" => "UPDATE LedgerRecords SET Canonical = REPLACE(Canonical, '|1000|', '|9000|') WHERE Sequence = {0}",
            "change-hash" => "UPDATE LedgerRecords SET Hash = PreviousHash WHERE Sequence = {0}",
            "change-previous-hash" => "UPDATE LedgerRecords SET PreviousHash = Hash WHERE Sequence = {0}",
            "delete" => "DELETE FROM LedgerRecords WHERE Sequence = {0}",
            _ => throw new ArgumentOutOfRangeException(nameof(tampering)),
        };
        Assert.Equal(1, await host.QueryAsync(db => db.Database.ExecuteSqlRawAsync(sql, sequence)));

        var verification = await ledger.VerifyAsync();
        Assert.False(verification.IsIntact);
        Assert.Equal(firstBroken, verification.FirstBrokenSequence);
    }

    [Fact]
    public async Task Removing_the_newest_record_is_seen_as_a_different_head_hash()
    {
        await using var host = await TestHost.StartAsync();
        var ledger = host.Services.GetRequiredService<DatabaseVoucherLedger>();
        for (var i = 0; i < 3; i++)
        {
            await ledger.RecordAsync([NewEvent(host)]);
        }

        var published = await ledger.VerifyAsync();
        await host.QueryAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM LedgerRecords WHERE Sequence = 3"));

        var now = await ledger.VerifyAsync();
        Assert.Equal(3, published.Records);
        Assert.Equal(2, now.Records);
        Assert.NotEqual(published.HeadHash, now.HeadHash);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(12)]
    public async Task Concurrent_recordings_of_different_events_all_land_gapless_with_an_intact_chain(int writers)
    {
        await using var host = await TestHost.StartAsync();
        var ledger = host.Services.GetRequiredService<DatabaseVoucherLedger>();
        var batches = Enumerable.Range(0, writers).Select(_ => new[] { NewEvent(host), NewEvent(host), NewEvent(host) }).ToArray();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var work = batches.Select(batch => Task.Run(async () =>
        {
            await gate.Task;
            return await ledger.RecordAsync(batch);
        })).ToArray();
        gate.SetResult();
        var results = await Task.WhenAll(work);

        var records = await host.QueryAsync(db => db.LedgerRecords.AsNoTracking().OrderBy(r => r.Sequence).ToListAsync());
        Assert.Equal(Enumerable.Range(1, writers * 3).Select(i => (long)i), records.Select(r => r.Sequence));
        Assert.Equal(batches.SelectMany(b => b).Select(e => e.EventId).Order(), records.Select(r => r.EventId).Order());
        for (var i = 0; i < writers; i++)
        {
            // A batch is appended in one transaction: its events sit next to each other, in order.
            var positions = results[i].Select(r => r.Position!.Value).ToList();
            Assert.Equal(Enumerable.Range((int)positions[0], 3).Select(p => (long)p), positions);
            Assert.Equal(batches[i].Select(e => e.EventId), results[i].Select(r => r.EventId));
            Assert.Equal(batches[i].Select(e => e.EventId), positions.Select(p => records[(int)p - 1].EventId));
        }

        Assert.Equal(new LedgerVerification(true, writers * 3, null, records[^1].Hash), await ledger.VerifyAsync());
    }

    [Fact]
    public async Task The_voucher_detail_shows_its_ledger_receipts_once_the_outbox_has_run()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(kind: Campaigns.VoucherKind.StoredValue));
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id);
        var voucher = vouchers[0];

        Assert.Empty((await host.RunAsync<VoucherService, VoucherDetail>(s => s.GetAsync(customer, voucher.Id))).LedgerReceipts);
        await host.Outbox.DrainAsync();
        host.Time.Advance(TimeSpan.FromMinutes(1));
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, voucher.DisplayCode, 2000, "till-1"));
        Assert.Single((await host.RunAsync<VoucherService, VoucherDetail>(s => s.GetAsync(customer, voucher.Id))).LedgerReceipts);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        await host.Outbox.DrainAsync();

        var detail = await host.RunAsync<VoucherService, VoucherDetail>(s => s.GetAsync(customer, voucher.Id));
        var records = await host.QueryAsync(db => db.LedgerRecords.AsNoTracking().Where(r => r.VoucherId == voucher.Id).OrderBy(r => r.Sequence).ToListAsync());
        Assert.Equal(new[] { LedgerEventKind.Issued, LedgerEventKind.Redeemed }, detail.LedgerReceipts.Select(r => r.Kind));
        Assert.Equal(records.Select(r => (long?)r.Sequence), detail.LedgerReceipts.Select(r => r.Position));
        Assert.Equal(records.Select(r => r.Hash), detail.LedgerReceipts.Select(r => r.TransactionReference));
        Assert.All(detail.LedgerReceipts, r => Assert.Equal(LedgerReceiptStatus.Confirmed, r.Status));

        // The merchant sees the same receipts.
        var merchantView = await host.RunAsync<VoucherService, VoucherDetail>(s => s.GetAsync(owner, voucher.Id));
        Assert.Equal(detail.LedgerReceipts.Select(r => r.EventId), merchantView.LedgerReceipts.Select(r => r.EventId));
    }

    [Fact]
    public async Task A_redelivered_ledger_message_does_not_reorder_the_receipts_in_the_voucher_detail()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(kind: Campaigns.VoucherKind.StoredValue));
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id);
        await host.Outbox.DrainAsync();
        host.Time.Advance(TimeSpan.FromMinutes(1));
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, vouchers[0].DisplayCode, 2000, "till-1"));
        await host.Outbox.DrainAsync();

        // At-least-once: the Issued event is delivered a second time, later.
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var issued = (await host.OutboxAsync(OutboxTypes.LedgerRecord))[0].Id;
        await host.QueryAsync(db => db.OutboxMessages.Where(m => m.Id == issued).ExecuteUpdateAsync(s => s.SetProperty(m => m.ProcessedAt, (DateTimeOffset?)null)));
        Assert.Equal(1, await host.Outbox.DrainAsync());

        var detail = await host.RunAsync<VoucherService, VoucherDetail>(s => s.GetAsync(customer, vouchers[0].Id));
        Assert.Equal(new[] { LedgerEventKind.Issued, LedgerEventKind.Redeemed }, detail.LedgerReceipts.Select(r => r.Kind));
        Assert.Equal(new long?[] { 1, 2 }, detail.LedgerReceipts.Select(r => r.Position));
    }

    private static IEnumerable<string> KindsOf(IEnumerable<LedgerRecord> records, Guid voucherId) =>
        records.Where(r => r.VoucherId == voucherId).Select(r => r.Canonical.Split('|')[2]).ToList();

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static LedgerEvent NewEvent(TestHost host, long amount = 5000) =>
        new(Guid.NewGuid(), LedgerEventKind.Issued, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 100, Guid.NewGuid(), null, amount, amount, "CHF", host.Time.GetUtcNow());
}
