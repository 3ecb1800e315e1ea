using Nethereum.Hex.HexConvertors.Extensions;
using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum.Tests.Contract;

public sealed class BatchCodecTests
{
    private static readonly Guid Campaign = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");

    // Group header: campaign id (RFC 4122 order), supply 1000, face value 5000, one record.
    private const string Header = "00112233445566778899aabbccddeeff" + "000003e8" + "00001388" + "0001";

    public static TheoryData<string, BatchRecord, string> Vectors => new()
    {
        {
            "issue",
            new BatchRecord(LedgerOp.Issue, 5, 1, VoucherId: Guid.Parse("0f0e0d0c-0b0a-0908-0706-050403020100"), Holder: 0x1122334455667788),
            "01" + "00000005" + "0001" + "0f0e0d0c0b0a09080706050403020100" + "1122334455667788"
        },
        {
            "transfer",
            new BatchRecord(LedgerOp.Transfer, 0x01020304, 0x0a0b, From: 0xa1a2a3a4a5a6a7a8, To: 0xb1b2b3b4b5b6b7b8),
            "02" + "01020304" + "0a0b" + "a1a2a3a4a5a6a7a8" + "b1b2b3b4b5b6b7b8"
        },
        { "redeem", new BatchRecord(LedgerOp.Redeem, 7, 3, Amount: 1_500), "03" + "00000007" + "0003" + "000005dc" },
        { "reverse", new BatchRecord(LedgerOp.Reverse, 7, 4, Amount: 0xdeadbeef), "04" + "00000007" + "0004" + "deadbeef" },
        { "expire", new BatchRecord(LedgerOp.Expire, 0xffffffff, 0xffff), "05" + "ffffffff" + "ffff" },
        { "refund", new BatchRecord(LedgerOp.Refund, 2, 9), "06" + "00000002" + "0009" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Each_op_has_the_exact_byte_layout_of_the_spec(string name, BatchRecord record, string recordHex)
    {
        var bytes = BatchCodec.Encode([new BatchGroup(Campaign, 1_000, 5_000, [record])]);

        Assert.True((Header + recordHex) == bytes.ToHex(), $"{name}: {bytes.ToHex()}");
        var decoded = Assert.Single(BatchCodec.Decode(bytes));
        Assert.Equal(record, Assert.Single(decoded.Records));
    }

    [Fact]
    public void Several_groups_round_trip()
    {
        var other = Guid.NewGuid();
        BatchGroup[] groups =
        [
            new(Campaign, 3, 2_500, [
                new BatchRecord(LedgerOp.Issue, 0, 1, VoucherId: Guid.NewGuid(), Holder: 42),
                new BatchRecord(LedgerOp.Transfer, 0, 2, From: 42, To: 43),
                new BatchRecord(LedgerOp.Redeem, 0, 3, Amount: 100),
                new BatchRecord(LedgerOp.Reverse, 0, 4, Amount: 100),
                new BatchRecord(LedgerOp.Expire, 0, 5),
            ]),
            new(other, uint.MaxValue, 1, []),
            new(other, 9, 1, [new BatchRecord(LedgerOp.Refund, 4, 2)]),
        ];

        var bytes = BatchCodec.Encode(groups);
        var decoded = BatchCodec.Decode(bytes);

        Assert.Equal(26 + 31 + 23 + 11 + 11 + 7 + 26 + 26 + 7, bytes.Length);
        Assert.Equal(groups.Length, decoded.Count);
        for (var i = 0; i < groups.Length; i++)
        {
            Assert.Equal(groups[i].CampaignId, decoded[i].CampaignId);
            Assert.Equal(groups[i].Supply, decoded[i].Supply);
            Assert.Equal(groups[i].FaceValue, decoded[i].FaceValue);
            Assert.Equal(groups[i].Records, decoded[i].Records);
        }
    }

    [Fact]
    public void Decode_rejects_every_truncation_and_an_unknown_op()
    {
        var bytes = BatchCodec.Encode([new BatchGroup(Campaign, 1_000, 5_000, [
            new BatchRecord(LedgerOp.Issue, 0, 1, VoucherId: Guid.NewGuid(), Holder: 7),
            new BatchRecord(LedgerOp.Redeem, 0, 2, Amount: 1),
        ])]);

        for (var length = 1; length < bytes.Length; length++)
        {
            // Every prefix is cut inside a header or a record, so none decodes.
            Assert.Throws<FormatException>(() => BatchCodec.Decode(bytes.AsSpan(0, length)));
        }

        var unknown = (byte[])bytes.Clone();
        unknown[26] = 7;
        Assert.Throws<FormatException>(() => BatchCodec.Decode(unknown));
        Assert.Empty(BatchCodec.Decode([]));
    }
}
