using System.Buffers.Binary;
using System.Text;
using Nethereum.Util;

namespace OpenMavn.Ledger.Ethereum.Contract;

/// <summary>
/// Custodial holder accounts: the platform holds vouchers on chain for its customers under an id derived from the
/// customer id, <c>uint64(bytes8(keccak256("OpenMavn.holder" ++ bytes16 customerId)))</c>. The contract's
/// <c>custodialAccount(bytes16)</c> computes the same value.
/// </summary>
public static class CustodialAccount
{
    private static readonly byte[] Prefix = Encoding.ASCII.GetBytes("OpenMavn.holder");

    /// <summary>The custodial account of a customer (never 0 in practice; 0 means nobody on chain).</summary>
    /// <param name="customerId">The customer id.</param>
    /// <returns>The 64-bit account id.</returns>
    public static ulong For(Guid customerId)
    {
        var input = new byte[Prefix.Length + 16];
        Prefix.CopyTo(input, 0);
        customerId.TryWriteBytes(input.AsSpan(Prefix.Length), bigEndian: true, out _);
        var hash = Sha3Keccack.Current.CalculateHash(input);
        return BinaryPrimitives.ReadUInt64BigEndian(hash);
    }
}
