using System.Numerics;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Hex.HexTypes;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests.Contract;

/// <summary>Only the operator writes; a malformed batch reverts as a whole; holder ids agree with C#.</summary>
public sealed class AccessTests(LedgerChain chain) : IClassFixture<LedgerChain>
{
    private static readonly ulong Alice = CustodialAccount.For(Guid.Parse("0b9a5a36-2f0e-4f7e-9d55-1b7c0c3f0a01"));

    private Nethereum.Contracts.Contract Raw => chain.Web3.Eth.GetContract(VoucherLedgerArtifact.Abi, chain.Ledger.Address);

    private static byte[] OneIssue(Guid campaign) =>
        BatchCodec.Encode([new BatchGroup(campaign, 5, 100, [new BatchRecord(LedgerOp.Issue, 0, 1, VoucherId: Guid.NewGuid(), Holder: Alice)])]);

    [Fact]
    public async Task A_stranger_cannot_record_or_change_the_operator()
    {
        var stranger = new Nethereum.Web3.Accounts.Account(Anvil.PrivateKeys[1], Anvil.ChainId);
        var strangerWeb3 = chain.As(1);
        var campaign = Guid.NewGuid();
        var record = chain.Ledger.CreateRecordTransaction(stranger.Address, 1, OneIssue(campaign));
        var setOperator = Raw.GetFunction("setOperator").CreateTransactionInput(stranger.Address, stranger.Address);

        Assert.Equal(LedgerChain.Selector("NotOperator()"), await chain.RevertDataAsync(stranger.Address, record.Data));
        Assert.Equal(LedgerChain.Selector("NotOperator()"), await chain.RevertDataAsync(stranger.Address, setOperator.Data));

        foreach (var input in new[] { record, setOperator })
        {
            input.Gas = new HexBigInteger(new BigInteger(500_000));
            var receipt = await strangerWeb3.TransactionManager.SendTransactionAndWaitForReceiptAsync(input, LedgerChain.Timeout);
            Assert.Equal(BigInteger.Zero, receipt.Status.Value);
        }

        Assert.Equal(new OnChainCampaign(0, 0, 0, 0), await chain.Ledger.GetCampaignAsync(campaign));
        Assert.Equal(chain.Operator.Address, await chain.Ledger.GetOperatorAsync(), ignoreCase: true);
    }

    [Fact]
    public async Task The_operator_can_hand_over_and_the_old_operator_is_then_a_stranger()
    {
        var next = new Nethereum.Web3.Accounts.Account(Anvil.PrivateKeys[2], Anvil.ChainId);
        var handOver = Raw.GetFunction("setOperator").CreateTransactionInput(chain.Operator.Address, next.Address);
        handOver.Gas = new HexBigInteger(new BigInteger(100_000));
        var receipt = await chain.Web3.TransactionManager.SendTransactionAndWaitForReceiptAsync(handOver, LedgerChain.Timeout);
        Assert.Equal(BigInteger.One, receipt.Status.Value);
        try
        {
            Assert.Equal(next.Address, await chain.Ledger.GetOperatorAsync(), ignoreCase: true);
            Assert.Contains(receipt.Logs, log => string.Equals(log.Topics[0]?.ToString(), LedgerChain.Topic("OperatorChanged(address,address)"), StringComparison.OrdinalIgnoreCase));
            var record = chain.Ledger.CreateRecordTransaction(chain.Operator.Address, 1, OneIssue(Guid.NewGuid()));
            Assert.Equal(LedgerChain.Selector("NotOperator()"), await chain.RevertDataAsync(chain.Operator.Address, record.Data));
            Assert.Null(await chain.RevertDataAsync(next.Address, record.Data));
        }
        finally
        {
            var back = Raw.GetFunction("setOperator").CreateTransactionInput(next.Address, chain.Operator.Address);
            back.Gas = new HexBigInteger(new BigInteger(100_000));
            Assert.Equal(BigInteger.One, (await chain.As(2).TransactionManager.SendTransactionAndWaitForReceiptAsync(back, LedgerChain.Timeout)).Status.Value);
        }
    }

    [Fact]
    public async Task A_malformed_batch_reverts_as_a_whole()
    {
        var campaign = Guid.NewGuid();
        var valid = OneIssue(campaign);
        var twoGroups = valid.Concat(valid).ToArray();
        var unknownOp = (byte[])valid.Clone();
        unknownOp[26] = 9;
        var overrun = (byte[])valid.Clone();
        overrun[25] = 2;
        byte[][] malformed =
        [
            valid[..^1],
            twoGroups[..^1],
            valid[..20],
            unknownOp,
            overrun,
            [.. valid, 0x00],
        ];

        foreach (var batch in malformed)
        {
            var input = chain.Ledger.CreateRecordTransaction(chain.Operator.Address, 7, batch);
            Assert.True(LedgerChain.Selector("MalformedBatch()") == await chain.RevertDataAsync(chain.Operator.Address, input.Data), batch.ToHex());
        }

        var sent = chain.Ledger.CreateRecordTransaction(chain.Operator.Address, 8, unknownOp);
        sent.Gas = new HexBigInteger(new BigInteger(500_000));
        var receipt = await chain.Web3.TransactionManager.SendTransactionAndWaitForReceiptAsync(sent, LedgerChain.Timeout);
        Assert.Equal(BigInteger.Zero, receipt.Status.Value);
        Assert.Null(await chain.Ledger.ReadResultsAsync(receipt, 8));
        Assert.Equal(new OnChainCampaign(0, 0, 0, 0), await chain.Ledger.GetCampaignAsync(campaign));
        Assert.Null(await chain.RevertDataAsync(chain.Operator.Address, chain.Ledger.CreateRecordTransaction(chain.Operator.Address, 9, valid).Data));
    }

    [Theory]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    [InlineData("0b9a5a36-2f0e-4f7e-9d55-1b7c0c3f0a01")]
    [InlineData("ffffffff-ffff-ffff-ffff-ffffffffffff")]
    [InlineData("00112233-4455-6677-8899-aabbccddeeff")]
    [InlineData("7d1e3c52-8a44-4b0b-a1c2-5e6f7a8b9c02")]
    public async Task CustodialAccount_For_equals_the_contracts_custodialAccount(string customerId)
    {
        var id = Guid.Parse(customerId);

        var onChain = await Raw.GetFunction("custodialAccount").CallAsync<BigInteger>(BatchCodec.ToBytes16(id));

        Assert.Equal(onChain, new BigInteger(CustodialAccount.For(id)));
        Assert.NotEqual(0UL, CustodialAccount.For(id));
    }

    [Fact]
    public async Task ReadResults_ignores_BatchApplied_logs_of_other_addresses_and_other_batch_ids()
    {
        var (_, receipt) = await chain.RecordAsync(new BatchGroup(Guid.NewGuid(), 5, 100, [new BatchRecord(LedgerOp.Issue, 0, 1, VoucherId: Guid.NewGuid(), Holder: Alice)]));
        var log = Assert.Single(receipt.Logs, l => string.Equals(l.Topics[0]?.ToString(), LedgerChain.Topic("BatchApplied(uint64,bytes)"), StringComparison.OrdinalIgnoreCase));
        var batchId = ulong.Parse(log.Topics[1]!.ToString()![2..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal([RecordResult.Applied], await chain.Ledger.ReadResultsAsync(receipt, batchId));
        Assert.Null(await chain.Ledger.ReadResultsAsync(receipt, batchId + 1));
        var elsewhere = new VoucherLedgerContract(chain.Web3, "0x000000000000000000000000000000000000dead");
        Assert.Null(await elsewhere.ReadResultsAsync(receipt, batchId));
    }
}
