using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum.Tests.Contract;

/// <summary>Every invariant violation is answered with its result code and changes nothing.</summary>
public sealed class InvariantTests(LedgerChain chain) : IClassFixture<LedgerChain>
{
    private const uint Face = 5_000;
    private const uint Supply = 10;
    private static readonly ulong Alice = CustodialAccount.For(Guid.Parse("0b9a5a36-2f0e-4f7e-9d55-1b7c0c3f0a01"));
    private static readonly ulong Bob = CustodialAccount.For(Guid.Parse("7d1e3c52-8a44-4b0b-a1c2-5e6f7a8b9c02"));

    private static BatchRecord Issue(uint serial, ulong holder = 0) =>
        new(LedgerOp.Issue, serial, 1, VoucherId: Guid.NewGuid(), Holder: holder == 0 ? Alice : holder);

    /// <summary>A campaign with vouchers 0 and 1 issued to Alice (seq 1, full balance).</summary>
    private async Task<Guid> CampaignWithTwoVouchersAsync(uint supply = Supply)
    {
        var campaign = Guid.NewGuid();
        Assert.Equal([RecordResult.Applied, RecordResult.Applied], await chain.RecordAsync(campaign, supply, Face, Issue(0), Issue(1)));
        return campaign;
    }

    private async Task AssertRejectedAsync(Guid campaign, RecordResult expected, BatchGroup group)
    {
        var before = await chain.SnapshotAsync(campaign);

        var (results, _) = await chain.RecordAsync(group);

        Assert.All(results, result => Assert.Equal(expected, result));
        Assert.Equal(group.Records.Count, results.Count);
        var after = await chain.SnapshotAsync(campaign);
        Assert.Equal(before.Campaign, after.Campaign);
        Assert.Equal(before.Vouchers, after.Vouchers);
    }

    private Task AssertRejectedAsync(Guid campaign, RecordResult expected, params BatchRecord[] records) =>
        AssertRejectedAsync(campaign, expected, new BatchGroup(campaign, Supply, Face, records));

    [Fact]
    public async Task Duplicate_a_record_applied_before_changes_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync();
        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, Supply, Face, new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: 100)));

        await AssertRejectedAsync(campaign, RecordResult.Duplicate, Issue(0, Bob));
        await AssertRejectedAsync(campaign, RecordResult.Duplicate, new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: 100));
        await AssertRejectedAsync(campaign, RecordResult.Duplicate, new BatchRecord(LedgerOp.Transfer, 0, 1, From: Alice, To: Bob));
    }

    [Fact]
    public async Task OutOfOrder_a_seq_gap_or_an_issue_off_the_next_serial_changes_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync();

        await AssertRejectedAsync(campaign, RecordResult.OutOfOrder, new BatchRecord(LedgerOp.Redeem, 0, 3, Amount: 100));
        await AssertRejectedAsync(campaign, RecordResult.OutOfOrder, Issue(3));
        await AssertRejectedAsync(campaign, RecordResult.OutOfOrder, new BatchRecord(LedgerOp.Issue, 2, 2, VoucherId: Guid.NewGuid(), Holder: Alice));
    }

    [Fact]
    public async Task Unknown_an_operation_on_a_voucher_never_issued_changes_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync();

        await AssertRejectedAsync(campaign, RecordResult.Unknown, new BatchRecord(LedgerOp.Redeem, 2, 1, Amount: 1));
        await AssertRejectedAsync(campaign, RecordResult.Unknown, new BatchRecord(LedgerOp.Transfer, 5, 1, From: 0, To: Bob));
        await AssertRejectedAsync(campaign, RecordResult.Unknown, new BatchRecord(LedgerOp.Refund, 3, 1));
    }

    [Fact]
    public async Task NotActive_a_redeemed_expired_or_refunded_voucher_cannot_move_or_be_redeemed_again()
    {
        var campaign = Guid.NewGuid();
        Assert.All(await chain.RecordAsync(campaign, Supply, Face, Issue(0), Issue(1), Issue(2)), r => Assert.Equal(RecordResult.Applied, r));
        Assert.Equal(
            [RecordResult.Applied, RecordResult.Applied, RecordResult.Applied],
            await chain.RecordAsync(
                campaign,
                Supply,
                Face,
                new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: Face),
                new BatchRecord(LedgerOp.Expire, 1, 2),
                new BatchRecord(LedgerOp.Refund, 2, 2)));

        foreach (var serial in new uint[] { 0, 1, 2 })
        {
            await AssertRejectedAsync(campaign, RecordResult.NotActive, new BatchRecord(LedgerOp.Redeem, serial, 3, Amount: 1));
            await AssertRejectedAsync(campaign, RecordResult.NotActive, new BatchRecord(LedgerOp.Transfer, serial, 3, From: Alice, To: Bob));
            await AssertRejectedAsync(campaign, RecordResult.NotActive, new BatchRecord(LedgerOp.Expire, serial, 3));
            await AssertRejectedAsync(campaign, RecordResult.NotActive, new BatchRecord(LedgerOp.Refund, serial, 3));
        }

        await AssertRejectedAsync(campaign, RecordResult.NotActive, new BatchRecord(LedgerOp.Reverse, 1, 3, Amount: 1));
        await AssertRejectedAsync(campaign, RecordResult.NotActive, new BatchRecord(LedgerOp.Reverse, 2, 3, Amount: 1));
    }

    [Fact]
    public async Task InsufficientBalance_a_balance_never_goes_below_zero()
    {
        var campaign = await CampaignWithTwoVouchersAsync();
        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, Supply, Face, new BatchRecord(LedgerOp.Redeem, 1, 2, Amount: 4_000)));

        await AssertRejectedAsync(campaign, RecordResult.InsufficientBalance, new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: Face + 1));
        await AssertRejectedAsync(campaign, RecordResult.InsufficientBalance, new BatchRecord(LedgerOp.Redeem, 1, 3, Amount: 1_001));
        await AssertRejectedAsync(campaign, RecordResult.InsufficientBalance, new BatchRecord(LedgerOp.Redeem, 1, 3, Amount: uint.MaxValue));
    }

    [Fact]
    public async Task SupplyExceeded_issuing_past_the_supply_changes_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync(supply: 2);

        await AssertRejectedAsync(campaign, RecordResult.SupplyExceeded, new BatchGroup(campaign, 2, Face, [Issue(2)]));
    }

    [Fact]
    public async Task WrongHolder_a_transfer_from_someone_else_or_to_nobody_or_an_issue_to_nobody_changes_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync();

        await AssertRejectedAsync(campaign, RecordResult.WrongHolder, new BatchRecord(LedgerOp.Transfer, 0, 2, From: Bob, To: Alice));
        await AssertRejectedAsync(campaign, RecordResult.WrongHolder, new BatchRecord(LedgerOp.Transfer, 1, 2, From: Alice, To: 0));
        await AssertRejectedAsync(campaign, RecordResult.WrongHolder, new BatchRecord(LedgerOp.Issue, 2, 1, VoucherId: Guid.NewGuid(), Holder: 0));
    }

    [Fact]
    public async Task BadAmount_zero_amounts_and_a_reversal_above_the_face_value_change_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync();
        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, Supply, Face, new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: 1_000)));

        await AssertRejectedAsync(campaign, RecordResult.BadAmount, new BatchRecord(LedgerOp.Redeem, 0, 3, Amount: 0));
        await AssertRejectedAsync(campaign, RecordResult.BadAmount, new BatchRecord(LedgerOp.Reverse, 0, 3, Amount: 0));
        await AssertRejectedAsync(campaign, RecordResult.BadAmount, new BatchRecord(LedgerOp.Reverse, 0, 3, Amount: 1_001));
        await AssertRejectedAsync(campaign, RecordResult.BadAmount, new BatchRecord(LedgerOp.Reverse, 1, 2, Amount: 1));
    }

    [Fact]
    public async Task CampaignMismatch_another_face_value_or_registering_with_zero_face_or_supply_changes_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync();
        await AssertRejectedAsync(campaign, RecordResult.CampaignMismatch, new BatchGroup(campaign, Supply, Face + 1, [Issue(2), new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: 1)]));

        var unregistered = Guid.NewGuid();
        await AssertRejectedAsync(unregistered, RecordResult.CampaignMismatch, new BatchGroup(unregistered, Supply, 0, [Issue(0)]));
        await AssertRejectedAsync(unregistered, RecordResult.CampaignMismatch, new BatchGroup(unregistered, 0, Face, [Issue(0)]));
        Assert.Equal(new OnChainCampaign(0, 0, 0, 0), await chain.Ledger.GetCampaignAsync(unregistered));
    }

    [Fact]
    public async Task SupplyBelowOutstanding_lowering_the_supply_under_the_outstanding_vouchers_changes_nothing()
    {
        var campaign = await CampaignWithTwoVouchersAsync();

        await AssertRejectedAsync(campaign, RecordResult.SupplyBelowOutstanding, new BatchGroup(campaign, 1, Face, [Issue(2), new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: 1)]));
        Assert.Equal(new OnChainCampaign(Supply, 2, 2, Face), await chain.Ledger.GetCampaignAsync(campaign));
    }

    [Fact]
    public async Task Supply_issuing_supply_plus_one_rejects_the_last_a_refund_frees_one_and_the_supply_can_change_down_to_outstanding()
    {
        var campaign = Guid.NewGuid();
        var results = await chain.RecordAsync(campaign, 3, Face, Issue(0), Issue(1), Issue(2), Issue(3));
        Assert.Equal([RecordResult.Applied, RecordResult.Applied, RecordResult.Applied, RecordResult.SupplyExceeded], results);
        Assert.Equal(new OnChainCampaign(3, 3, 3, Face), await chain.Ledger.GetCampaignAsync(campaign));

        Assert.Equal([RecordResult.Applied, RecordResult.Applied], await chain.RecordAsync(campaign, 3, Face, new BatchRecord(LedgerOp.Refund, 1, 2), Issue(3)));
        Assert.Equal(new OnChainCampaign(3, 3, 4, Face), await chain.Ledger.GetCampaignAsync(campaign));
        Assert.Equal(new OnChainVoucher(Alice, Face, 1, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 3));

        var (applied, receipt) = await chain.RecordAsync(new BatchGroup(campaign, 5, Face, [Issue(4)]));
        Assert.Equal([RecordResult.Applied], applied);
        Assert.Contains(receipt.Logs, log => string.Equals(log.Topics[0]?.ToString(), LedgerChain.Topic("SupplyChanged(bytes16,uint32)"), StringComparison.OrdinalIgnoreCase));
        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, 4, Face, new BatchRecord(LedgerOp.Expire, 4, 2)));
        Assert.Equal(new OnChainCampaign(4, 4, 5, Face), await chain.Ledger.GetCampaignAsync(campaign));
    }

    [Fact]
    public async Task Two_vouchers_in_one_slot_do_not_disturb_each_other()
    {
        var campaign = await CampaignWithTwoVouchersAsync();
        var even = await chain.Ledger.GetVoucherAsync(campaign, 0);

        Assert.Equal(
            [RecordResult.Applied, RecordResult.Applied],
            await chain.RecordAsync(campaign, Supply, Face, new BatchRecord(LedgerOp.Transfer, 1, 2, From: Alice, To: Bob), new BatchRecord(LedgerOp.Redeem, 1, 3, Amount: 4_999)));
        Assert.Equal(even, await chain.Ledger.GetVoucherAsync(campaign, 0));
        var odd = await chain.Ledger.GetVoucherAsync(campaign, 1);
        Assert.Equal(new OnChainVoucher(Bob, 1, 3, OnChainStatus.Active), odd);

        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, Supply, Face, new BatchRecord(LedgerOp.Refund, 0, 2)));
        Assert.Equal(odd, await chain.Ledger.GetVoucherAsync(campaign, 1));
        Assert.Equal(new OnChainVoucher(Alice, 0, 2, OnChainStatus.Refunded), await chain.Ledger.GetVoucherAsync(campaign, 0));
    }

    [Fact]
    public async Task A_batch_of_200_mixed_records_answers_200_results_in_order()
    {
        var campaign = Guid.NewGuid();
        var other = Guid.NewGuid();
        var issues = Enumerable.Range(0, 100).Select(i => Issue((uint)i)).ToArray();
        var expected = new List<RecordResult>(Enumerable.Repeat(RecordResult.Applied, 100));
        var mixed = new List<BatchRecord>();
        for (var i = 0u; i < 90; i++)
        {
            (BatchRecord record, RecordResult result) = (i % 5) switch
            {
                0 => (new BatchRecord(LedgerOp.Transfer, i, 2, From: Alice, To: Bob), RecordResult.Applied),
                1 => (new BatchRecord(LedgerOp.Redeem, i, 2, Amount: Face + 1), RecordResult.InsufficientBalance),
                2 => (Issue(i), RecordResult.Duplicate),
                3 => (new BatchRecord(LedgerOp.Redeem, i, 2, Amount: 10), RecordResult.Applied),
                _ => (new BatchRecord(LedgerOp.Transfer, i, 2, From: Bob, To: Alice), RecordResult.WrongHolder),
            };
            mixed.Add(record);
            expected.Add(result);
        }

        var otherRecords = Enumerable.Range(0, 10).Select(i => new BatchRecord(LedgerOp.Expire, (uint)i, 1)).ToArray();
        expected.AddRange(Enumerable.Repeat(RecordResult.Unknown, 10));

        var (results, _) = await chain.RecordAsync(
            new BatchGroup(campaign, 100, Face, issues),
            new BatchGroup(campaign, 100, Face, mixed),
            new BatchGroup(other, 5, 10, otherRecords));

        Assert.Equal(200, results.Count);
        Assert.Equal(expected, results);
        Assert.Equal(new OnChainCampaign(100, 100, 100, Face), await chain.Ledger.GetCampaignAsync(campaign));
        Assert.Equal(new OnChainVoucher(Bob, Face, 2, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 0));
        Assert.Equal(new OnChainVoucher(Alice, Face, 1, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 1));
        Assert.Equal(new OnChainVoucher(Alice, Face - 10, 2, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 3));
        Assert.Equal(new OnChainVoucher(Alice, Face, 1, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 99));
        Assert.Equal(new OnChainCampaign(5, 0, 0, 10), await chain.Ledger.GetCampaignAsync(other));
    }
}
