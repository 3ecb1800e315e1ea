using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using Nethereum.Web3.Accounts;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests.Contract;

/// <summary>
/// One anvil per test class with the voucher ledger deployed by account 0 (the operator). Tests use fresh campaign
/// ids, so they do not see each other's state.
/// </summary>
public sealed class LedgerChain : IAsyncLifetime
{
    private Anvil? _anvil;
    private long _batchId;

    public Anvil Anvil => _anvil ?? throw new InvalidOperationException("Not started.");

    public IWeb3 Web3 { get; private set; } = null!;

    public Account Operator { get; private set; } = null!;

    public VoucherLedgerContract Ledger { get; private set; } = null!;

    /// <summary>A dropped transaction makes the receipt poll wait for ever: every wait here gives up after this.</summary>
    public static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    public async Task InitializeAsync()
    {
        _anvil = await Anvil.StartAsync();
        try
        {
            Operator = new Account(Anvil.PrivateKeys[0], Anvil.ChainId);
            Web3 = new Web3(Operator, _anvil.RpcUrl);
            var address = await VoucherLedgerContract.DeployAsync(Web3, Operator.Address, Timeout);
            Ledger = new VoucherLedgerContract(Web3, address);
        }
        catch
        {
            // xunit does not dispose a fixture whose initialisation failed: stop anvil here.
            await _anvil.DisposeAsync();
            _anvil = null;
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_anvil is not null)
        {
            await _anvil.DisposeAsync();
        }
    }

    /// <summary>Web3 signing as another anvil account (a stranger).</summary>
    public IWeb3 As(int accountIndex) => new Web3(new Account(Anvil.PrivateKeys[accountIndex], Anvil.ChainId), Anvil.RpcUrl);

    /// <summary>Sends one batch as the operator; returns the per-record results and the receipt.</summary>
    public async Task<(IReadOnlyList<RecordResult> Results, TransactionReceipt Receipt)> RecordAsync(params BatchGroup[] groups)
    {
        var batchId = (ulong)Interlocked.Increment(ref _batchId);
        var input = Ledger.CreateRecordTransaction(Operator.Address, batchId, BatchCodec.Encode(groups));
        input.Gas = new HexBigInteger(new BigInteger(25_000_000));
        var receipt = await Web3.TransactionManager.SendTransactionAndWaitForReceiptAsync(input, Timeout);
        Assert.Equal(BigInteger.One, receipt.Status.Value);
        var results = await Ledger.ReadResultsAsync(receipt, batchId);
        Assert.NotNull(results);
        return (results, receipt);
    }

    /// <summary>
    /// Runs a call with eth_call from <paramref name="from"/> and returns the revert data (0x-hex), or null when the
    /// call succeeds.
    /// </summary>
    public async Task<string?> RevertDataAsync(string from, string data)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync(Anvil.RpcUrl, new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "eth_call",
            @params = new object[] { new { from, to = Ledger.Address, data, gas = "0x1c9c380" }, "latest" },
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.TryGetProperty("error", out var error)
            ? error.TryGetProperty("data", out var revert) ? revert.GetString() : error.GetRawText()
            : null;
    }

    /// <summary>The 4-byte selector of a custom error or function signature, 0x-hex.</summary>
    public static string Selector(string signature) => "0x" + Nethereum.Util.Sha3Keccack.Current.CalculateHash(signature)[..8];

    /// <summary>The topic 0 of an event signature, 0x-hex.</summary>
    public static string Topic(string signature) => "0x" + Nethereum.Util.Sha3Keccack.Current.CalculateHash(signature);

    /// <summary>Everything the views say about a campaign and its first serials.</summary>
    public async Task<(OnChainCampaign Campaign, IReadOnlyList<OnChainVoucher> Vouchers)> SnapshotAsync(Guid campaignId, uint serials = 8) =>
        (await Ledger.GetCampaignAsync(campaignId), await Ledger.GetVouchersAsync(campaignId, 0, serials));

    /// <summary>Sends one group and returns its results.</summary>
    public async Task<IReadOnlyList<RecordResult>> RecordAsync(Guid campaignId, uint supply, uint faceValue, params BatchRecord[] records) =>
        (await RecordAsync(new BatchGroup(campaignId, supply, faceValue, records))).Results;
}
