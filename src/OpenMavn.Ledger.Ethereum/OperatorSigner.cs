using System.Numerics;
using Microsoft.Extensions.Options;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Model;
using Nethereum.Signer;
using Nethereum.Util;

namespace OpenMavn.Ledger.Ethereum;

/// <summary>A signed transaction: the raw bytes to broadcast and their hash.</summary>
/// <param name="Raw">0x-prefixed signed raw transaction.</param>
/// <param name="Hash">0x-prefixed transaction hash.</param>
internal sealed record SignedTransaction(string Raw, string Hash);

/// <summary>Signs EIP-1559 transactions offline with the operator key (which it never shows).</summary>
internal sealed class OperatorSigner
{
    private readonly EthECKey _key;
    private readonly long _chainId;

    public OperatorSigner(IOptions<EthereumLedgerOptions> options)
    {
        var value = options.Value;
        if (!OperatorKey.IsWellFormed(value.OperatorPrivateKey))
        {
            throw new ArgumentException("OpenMavn:Ledger:Ethereum:OperatorPrivateKey must be a 32-byte hex private key.", nameof(options));
        }

        _key = new EthECKey(OperatorKey.Strip(value.OperatorPrivateKey));
        _chainId = value.ChainId;
        Address = _key.GetPublicAddress().ToLowerInvariant();
    }

    /// <summary>The operator's address (lower case).</summary>
    public string Address { get; }

    public SignedTransaction Sign(long nonce, BigInteger maxPriorityFeePerGas, BigInteger maxFeePerGas, long gasLimit, string? to, byte[] data)
    {
        var transaction = new Transaction1559(_chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to ?? "", BigInteger.Zero, data.ToHex(true), null);
        new Transaction1559Signer().SignTransaction(_key, transaction);
        var raw = transaction.GetRLPEncoded();
        return new SignedTransaction(raw.ToHex(true), Sha3Keccack.Current.CalculateHash(raw).ToHex(true));
    }

    /// <inheritdoc />
    public override string ToString() => "operator " + Address;
}
