using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum.Tests.Contract;

public sealed class LifecycleTests(LedgerChain chain) : IClassFixture<LedgerChain>
{
    private static readonly ulong Alice = CustodialAccount.For(Guid.Parse("0b9a5a36-2f0e-4f7e-9d55-1b7c0c3f0a01"));
    private static readonly ulong Bob = CustodialAccount.For(Guid.Parse("7d1e3c52-8a44-4b0b-a1c2-5e6f7a8b9c02"));

    [Fact]
    public async Task Issue_transfer_partial_redeem_redeem_reverse_and_expire_read_back_through_the_views()
    {
        var campaign = Guid.NewGuid();
        var results = await chain.RecordAsync(
            campaign,
            supply: 10,
            faceValue: 5_000,
            new BatchRecord(LedgerOp.Issue, 0, 1, VoucherId: Guid.NewGuid(), Holder: Alice),
            new BatchRecord(LedgerOp.Issue, 1, 1, VoucherId: Guid.NewGuid(), Holder: Alice));
        Assert.Equal([RecordResult.Applied, RecordResult.Applied], results);
        Assert.Equal(new OnChainCampaign(10, 2, 2, 5_000), await chain.Ledger.GetCampaignAsync(campaign));
        Assert.Equal(new OnChainVoucher(Alice, 5_000, 1, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 0));

        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, 10, 5_000, new BatchRecord(LedgerOp.Transfer, 0, 2, From: Alice, To: Bob)));
        Assert.Equal(new OnChainVoucher(Bob, 5_000, 2, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 0));

        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, 10, 5_000, new BatchRecord(LedgerOp.Redeem, 0, 3, Amount: 1_500)));
        Assert.Equal(new OnChainVoucher(Bob, 3_500, 3, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 0));

        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, 10, 5_000, new BatchRecord(LedgerOp.Redeem, 0, 4, Amount: 3_500)));
        Assert.Equal(new OnChainVoucher(Bob, 0, 4, OnChainStatus.Redeemed), await chain.Ledger.GetVoucherAsync(campaign, 0));

        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, 10, 5_000, new BatchRecord(LedgerOp.Reverse, 0, 5, Amount: 3_500)));
        Assert.Equal(new OnChainVoucher(Bob, 3_500, 5, OnChainStatus.Active), await chain.Ledger.GetVoucherAsync(campaign, 0));

        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, 10, 5_000, new BatchRecord(LedgerOp.Expire, 0, 6)));
        Assert.Equal(new OnChainVoucher(Bob, 3_500, 6, OnChainStatus.Expired), await chain.Ledger.GetVoucherAsync(campaign, 0));

        Assert.Equal([RecordResult.Applied], await chain.RecordAsync(campaign, 10, 5_000, new BatchRecord(LedgerOp.Refund, 1, 2)));
        Assert.Equal(new OnChainVoucher(Alice, 0, 2, OnChainStatus.Refunded), await chain.Ledger.GetVoucherAsync(campaign, 1));
        Assert.Equal(new OnChainCampaign(10, 1, 2, 5_000), await chain.Ledger.GetCampaignAsync(campaign));

        Assert.Equal(
            [new OnChainVoucher(Bob, 3_500, 6, OnChainStatus.Expired), new OnChainVoucher(Alice, 0, 2, OnChainStatus.Refunded), new OnChainVoucher(0, 0, 0, OnChainStatus.None)],
            await chain.Ledger.GetVouchersAsync(campaign, 0, 3));
        Assert.Equal(chain.Operator.Address, await chain.Ledger.GetOperatorAsync(), ignoreCase: true);
    }
}
