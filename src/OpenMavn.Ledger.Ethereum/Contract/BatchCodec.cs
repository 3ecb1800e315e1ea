using System.Buffers.Binary;

namespace OpenMavn.Ledger.Ethereum.Contract;

/// <summary>
/// The packed big-endian batch the contract's <c>record</c> takes:
/// <c>group := campaignId(16) supply(4) faceValue(4) count(2) record{count}</c>,
/// <c>record := op(1) serial(4) seq(2) payload</c> with payload Issue voucherId(16) holder(8), Transfer from(8) to(8),
/// Redeem/Reverse amount(4), Expire/Refund nothing. Guids are written in RFC 4122 (big-endian) byte order.
/// </summary>
public static class BatchCodec
{
    /// <summary>Bytes of a group header.</summary>
    public const int GroupHeaderLength = 26;

    /// <summary>Bytes of a record's fixed part (op, serial, seq).</summary>
    public const int RecordHeaderLength = 7;

    /// <summary>Most records one group can hold (the count is 16 bits).</summary>
    public const int MaxRecordsPerGroup = ushort.MaxValue;

    /// <summary>Bytes a record of <paramref name="op"/> takes, header included.</summary>
    /// <param name="op">The operation.</param>
    /// <returns>The encoded length.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Not a known operation.</exception>
    public static int RecordLength(LedgerOp op) => op switch
    {
        LedgerOp.Issue => RecordHeaderLength + 24,
        LedgerOp.Transfer => RecordHeaderLength + 16,
        LedgerOp.Redeem or LedgerOp.Reverse => RecordHeaderLength + 4,
        LedgerOp.Expire or LedgerOp.Refund => RecordHeaderLength,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown ledger operation."),
    };

    /// <summary>Encodes groups into one batch.</summary>
    /// <param name="groups">The groups, in order.</param>
    /// <returns>The batch bytes.</returns>
    /// <exception cref="ArgumentException">A group holds more than <see cref="MaxRecordsPerGroup"/> records or a record has an unknown op.</exception>
    public static byte[] Encode(IReadOnlyList<BatchGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var length = 0;
        foreach (var group in groups)
        {
            if (group.Records.Count > MaxRecordsPerGroup)
            {
                throw new ArgumentException($"A group holds at most {MaxRecordsPerGroup} records; campaign {group.CampaignId} has {group.Records.Count}.", nameof(groups));
            }

            length += GroupHeaderLength;
            foreach (var record in group.Records)
            {
                length += RecordLength(record.Op);
            }
        }

        var bytes = new byte[length];
        var span = bytes.AsSpan();
        var at = 0;
        foreach (var group in groups)
        {
            WriteGuid(span[at..], group.CampaignId);
            BinaryPrimitives.WriteUInt32BigEndian(span[(at + 16)..], group.Supply);
            BinaryPrimitives.WriteUInt32BigEndian(span[(at + 20)..], group.FaceValue);
            BinaryPrimitives.WriteUInt16BigEndian(span[(at + 24)..], (ushort)group.Records.Count);
            at += GroupHeaderLength;
            foreach (var record in group.Records)
            {
                span[at] = (byte)record.Op;
                BinaryPrimitives.WriteUInt32BigEndian(span[(at + 1)..], record.Serial);
                BinaryPrimitives.WriteUInt16BigEndian(span[(at + 5)..], record.Seq);
                var payload = span[(at + RecordHeaderLength)..];
                switch (record.Op)
                {
                    case LedgerOp.Issue:
                        WriteGuid(payload, record.VoucherId);
                        BinaryPrimitives.WriteUInt64BigEndian(payload[16..], record.Holder);
                        break;
                    case LedgerOp.Transfer:
                        BinaryPrimitives.WriteUInt64BigEndian(payload, record.From);
                        BinaryPrimitives.WriteUInt64BigEndian(payload[8..], record.To);
                        break;
                    case LedgerOp.Redeem:
                    case LedgerOp.Reverse:
                        BinaryPrimitives.WriteUInt32BigEndian(payload, record.Amount);
                        break;
                    default:
                        break;
                }

                at += RecordLength(record.Op);
            }
        }

        return bytes;
    }

    /// <summary>Decodes a batch (the inverse of <see cref="Encode"/>); fields an op does not carry stay default.</summary>
    /// <param name="batch">The batch bytes.</param>
    /// <returns>The groups.</returns>
    /// <exception cref="FormatException">The batch is truncated or names an unknown op (the contract would revert <c>MalformedBatch</c>).</exception>
    public static IReadOnlyList<BatchGroup> Decode(ReadOnlySpan<byte> batch)
    {
        var groups = new List<BatchGroup>();
        var at = 0;
        while (at < batch.Length)
        {
            if (batch.Length - at < GroupHeaderLength)
            {
                throw new FormatException($"Truncated group header at byte {at}.");
            }

            var campaignId = ReadGuid(batch[at..]);
            var supply = BinaryPrimitives.ReadUInt32BigEndian(batch[(at + 16)..]);
            var faceValue = BinaryPrimitives.ReadUInt32BigEndian(batch[(at + 20)..]);
            int count = BinaryPrimitives.ReadUInt16BigEndian(batch[(at + 24)..]);
            at += GroupHeaderLength;
            var records = new List<BatchRecord>(count);
            for (var i = 0; i < count; i++)
            {
                if (batch.Length - at < RecordHeaderLength)
                {
                    throw new FormatException($"Truncated record {i} of campaign {campaignId} at byte {at}.");
                }

                var op = (LedgerOp)batch[at];
                if (op is < LedgerOp.Issue or > LedgerOp.Refund)
                {
                    throw new FormatException($"Unknown op {(byte)op} at byte {at}.");
                }

                var length = RecordLength(op);
                if (batch.Length - at < length)
                {
                    throw new FormatException($"Truncated {op} record {i} of campaign {campaignId} at byte {at}.");
                }

                var serial = BinaryPrimitives.ReadUInt32BigEndian(batch[(at + 1)..]);
                var seq = BinaryPrimitives.ReadUInt16BigEndian(batch[(at + 5)..]);
                var payload = batch[(at + RecordHeaderLength)..];
                records.Add(op switch
                {
                    LedgerOp.Issue => new BatchRecord(op, serial, seq, VoucherId: ReadGuid(payload), Holder: BinaryPrimitives.ReadUInt64BigEndian(payload[16..])),
                    LedgerOp.Transfer => new BatchRecord(op, serial, seq, From: BinaryPrimitives.ReadUInt64BigEndian(payload), To: BinaryPrimitives.ReadUInt64BigEndian(payload[8..])),
                    LedgerOp.Redeem or LedgerOp.Reverse => new BatchRecord(op, serial, seq, Amount: BinaryPrimitives.ReadUInt32BigEndian(payload)),
                    _ => new BatchRecord(op, serial, seq),
                });
                at += length;
            }

            groups.Add(new BatchGroup(campaignId, supply, faceValue, records));
        }

        return groups;
    }

    /// <summary>A Guid as the contract's bytes16 (RFC 4122 big-endian order).</summary>
    /// <param name="id">The Guid.</param>
    /// <returns>16 bytes.</returns>
    public static byte[] ToBytes16(Guid id) => id.ToByteArray(bigEndian: true);

    private static void WriteGuid(Span<byte> destination, Guid id)
    {
        if (!id.TryWriteBytes(destination, bigEndian: true, out _))
        {
            throw new ArgumentException("Destination too small for a Guid.", nameof(destination));
        }
    }

    private static Guid ReadGuid(ReadOnlySpan<byte> source) => new(source[..16], bigEndian: true);
}
