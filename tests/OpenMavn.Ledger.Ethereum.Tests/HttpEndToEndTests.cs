using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Web3;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.RPC.Eth.DTOs;
using OpenMavn.AspNetCore.Tests;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>
/// The Ethereum ledger behind the real HTTP host: a voucher's life over the APIs ends in confirmed receipts that name
/// real blocks, reconciliation over the admin API sees what the chain holds (and what it cannot reach), the fee quote
/// reads the chain, the OpenAPI document describes every field those endpoints send, and concurrent sales settle.
/// </summary>
public sealed class HttpEndToEndTests(AnvilFixture chain) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task A_voucher_s_life_over_HTTP_ends_in_confirmed_receipts_in_real_blocks_and_reconciliation_sees_what_the_chain_holds()
    {
        await using var host = await StartHostAsync(chain.RpcUrl);
        var admin = await host.AdminAsync();
        var scenario = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await scenario.ReadyMerchantAsync(campaign: StoredValueCampaign());
        var (staff, _) = await scenario.StaffAsync(owner, merchantId);
        var (buyer, _) = await CustomerAsync(host);
        var (friend, friendEmail) = await CustomerAsync(host);

        var bought = await BuyAsync(host, buyer, campaignId, 2);
        var gifted = bought[0];
        var refunded = bought[1];
        var gift = await ApiHost.PostIdempotentAsync(buyer, $"/api/customer/vouchers/{gifted}/gift", new { recipientEmail = friendEmail });
        Assert.True(gift.IsSuccessStatusCode, await gift.Content.ReadAsStringAsync());
        var code = (await friend.GetFromJsonAsync<JsonElement>($"/api/customer/vouchers/{gifted}")).GetProperty("voucher").GetProperty("code").GetString();
        var redeemed = await ApiHost.PostIdempotentAsync(staff, $"/api/merchants/{merchantId}/redemptions", new { code, amount = 1500 });
        Assert.True(redeemed.IsSuccessStatusCode, await redeemed.Content.ReadAsStringAsync());
        var refund = await ApiHost.PostIdempotentAsync(admin, $"/api/admin/vouchers/{refunded}/refund", new { reason = "Bought twice by mistake." });
        Assert.True(refund.IsSuccessStatusCode, await refund.Content.ReadAsStringAsync());

        await SettleAsync(host, chain.RpcUrl);

        var web3 = new Web3(chain.RpcUrl);
        var giftedReceipts = await ReceiptsAsync(friend, $"/api/customer/vouchers/{gifted}");
        var refundedReceipts = await ReceiptsAsync(admin, $"/api/admin/vouchers/{refunded}");
        Assert.Equal(["Issued", "Transferred", "Redeemed"], giftedReceipts.Select(r => r.GetProperty("kind").GetString()));
        Assert.Equal(["Issued", "Refunded"], refundedReceipts.Select(r => r.GetProperty("kind").GetString()));
        foreach (var receipt in giftedReceipts.Concat(refundedReceipts))
        {
            Assert.Equal("Confirmed", receipt.GetProperty("status").GetString());
            Assert.Equal("ethereum", receipt.GetProperty("ledger").GetString());
            var hash = receipt.GetProperty("transactionReference").GetString()!;
            Assert.Matches("^0x[0-9a-f]{64}$", hash);
            var onChain = await web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash);
            Assert.NotNull(onChain);
            Assert.Equal(1, (int)onChain.Status.Value);
            Assert.Equal((long)onChain.BlockNumber.Value, receipt.GetProperty("position").GetInt64());
        }

        // The database and the chain agree.
        var vouchers = await QueryAsync(host, db => db.Vouchers.CountAsync());
        var clean = await ReconcileAsync(admin);
        Assert.Equal(JsonValueKind.Null, clean.GetProperty("report").GetProperty("error").ValueKind);
        Assert.Equal(vouchers, clean.GetProperty("report").GetProperty("vouchersChecked").GetInt64());
        Assert.Equal(0, clean.GetProperty("report").GetProperty("difference" + "Count").GetInt64());
        Assert.Equal(0, clean.GetProperty("report").GetProperty("inFlight").GetInt64());
        Assert.Empty(clean.GetProperty("differences").EnumerateArray());

        // Someone with the operator key redeems 1 unit of the gifted voucher behind the platform's back.
        var contractAddress = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        await RedeemBehindTheBackAsync(host, chain.RpcUrl, contractAddress, gifted, 1);

        var tampered = await ReconcileAsync(admin);
        Assert.Equal(JsonValueKind.Null, tampered.GetProperty("report").GetProperty("error").ValueKind);
        var differences = tampered.GetProperty("differences").EnumerateArray()
            .Select(d => (d.GetProperty("kind").GetString(), d.GetProperty("voucherId").GetGuid(), d.GetProperty("expected").GetString(), d.GetProperty("actual").GetString()))
            .OrderBy(d => d.Item1, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(
            [("BalanceDiffers", gifted, "3500", "3499"), ("EventCountDiffers", gifted, "3", "4")],
            differences);
        Assert.Equal(2, tampered.GetProperty("report").GetProperty("differenceCount").GetInt64());
    }

    [Fact]
    public async Task The_fee_quote_reads_the_chain_and_the_OpenAPI_document_declares_every_field_the_ledger_endpoints_send()
    {
        await using var host = await StartHostAsync(chain.RpcUrl);
        var admin = await host.AdminAsync();
        var scenario = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await scenario.ReadyMerchantAsync(campaign: StoredValueCampaign());
        await BuyAsync(host, (await CustomerAsync(host)).Client, campaignId, 1);
        var created = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/campaigns", StoredValueCampaign(supply: 40));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var draft = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaign").GetProperty("id").GetGuid();
        await SettleAsync(host, chain.RpcUrl);

        var feeResponse = await owner.GetAsync($"/api/merchants/{merchantId}/campaigns/{draft}/ledger-fee");
        var fee = JsonDocument.Parse(await feeResponse.Content.ReadAsStringAsync()).RootElement.Clone();
        Assert.True(feeResponse.StatusCode == HttpStatusCode.OK, fee.ToString());
        Assert.Equal("ethereum", fee.GetProperty("ledger").GetString());
        Assert.Equal(40, fee.GetProperty("vouchers").GetInt32());
        Assert.InRange(fee.GetProperty("gasPerIssue").GetInt64(), 1, 29_999);
        Assert.True(decimal.Parse(fee.GetProperty("gasPriceWei").GetString()!, CultureInfo.InvariantCulture) > 0, fee.ToString());
        Assert.True(decimal.Parse(fee.GetProperty("issueTotalWei").GetString()!, CultureInfo.InvariantCulture) > 0, fee.ToString());
        Assert.True(fee.GetProperty("issueTotalNative").GetDecimal() > 0m, fee.ToString());
        Assert.True(fee.GetProperty("lifecycleTotalNative").GetDecimal() > fee.GetProperty("issueTotalNative").GetDecimal(), fee.ToString());

        // Every response the ledger endpoints sent, checked against the schema the document declares for it.
        var run = await admin.PostAsync("/api/admin/ledger/reconciliations", null);
        Assert.Equal(HttpStatusCode.Created, run.StatusCode);
        var report = JsonDocument.Parse(await run.Content.ReadAsStringAsync()).RootElement.Clone();
        var reportId = report.GetProperty("report").GetProperty("id").GetGuid();
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/admin/ledger/reconciliations");
        var read = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/ledger/reconciliations/{reportId}");
        using var anonymous = host.Client();
        var document = new OpenApiDocumentCheck(await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json"));
        document.Check("/api/admin/ledger/reconciliations", "post", "201", report);
        document.Check("/api/admin/ledger/reconciliations", "get", "200", list);
        document.Check("/api/admin/ledger/reconciliations/{reportId}", "get", "200", read);
        document.Check("/api/merchants/{merchantId}/campaigns/{campaignId}/ledger-fee", "get", "200", fee);
        Assert.Equal(["string"], document.Types("LedgerFeeQuote", "gasPriceWei"));
        Assert.Equal(["string"], document.Types("LedgerFeeQuote", "issueTotalWei"));
        Assert.Equal(["string"], document.Types("LedgerFeeQuote", "lifecycleTotalWei"));
        Assert.True(document.Problems.Count == 0, string.Join("\n", document.Problems));

        // A client generated from the document (NSwag, compiled here with Roslyn) reads the same endpoints.
        var generated = await GeneratedClient.CreateAsync(anonymous);
        dynamic client = generated.New(admin);
        dynamic ran = await client.AdminRunLedgerReconciliationAsync();
        Assert.Equal(0L, (long)ran.Report.DifferenceCount);
        Assert.Equal(1L, (long)ran.Report.VouchersChecked);
        Assert.Equal("ethereum", (string)ran.Report.Ledger);
        Guid ranId = ran.Report.Id;
        dynamic listed = await client.AdminListLedgerReconciliationsAsync(null, null);
        Assert.Equal(2, (int)listed.Count);
        dynamic got = await client.AdminGetLedgerReconciliationAsync(ranId);
        Assert.Equal(ranId, (Guid)got.Report.Id);
        Assert.Equal(0, (int)got.Differences.Count);
        dynamic ownerClient = generated.New(owner);
        dynamic quoted = await ownerClient.GetCampaignLedgerFeeAsync(merchantId, draft);
        Assert.Equal(fee.GetProperty("gasPerIssue").GetInt64(), (long)quoted.GasPerIssue);
        Assert.True(decimal.Parse((string)quoted.IssueTotalWei, CultureInfo.InvariantCulture) > 0);

        // The check itself notices a field the document does not declare, and a wei amount sent as a number.
        var wrong = new OpenApiDocumentCheck(await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json"));
        wrong.Check("/api/merchants/{merchantId}/campaigns/{campaignId}/ledger-fee", "get", "200", JsonDocument.Parse("""{"ledger":"ethereum","gasPriceWei":1,"surprise":true}""").RootElement);
        Assert.Equal(2, wrong.Problems.Count);
    }

    [Fact]
    public async Task A_zero_fee_chain_quotes_zero_and_a_chain_that_is_down_gives_an_error_report_and_a_503_while_sales_go_on()
    {
        await using var zeroFee = await Anvil.StartAsync("--base-fee 0 --gas-price 0");
        await using var host = await StartHostAsync(zeroFee.RpcUrl);
        var admin = await host.AdminAsync();
        var scenario = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await scenario.ReadyMerchantAsync(campaign: StoredValueCampaign());
        var (customer, _) = await CustomerAsync(host);
        await BuyAsync(host, customer, campaignId, 1);
        await SettleAsync(host, zeroFee.RpcUrl);
        var feeUrl = $"/api/merchants/{merchantId}/campaigns/{campaignId}/ledger-fee";

        var fee = await owner.GetFromJsonAsync<JsonElement>(feeUrl);
        Assert.Equal(("0", "0", "0"), (fee.GetProperty("gasPriceWei").GetString(), fee.GetProperty("issueTotalWei").GetString(), fee.GetProperty("lifecycleTotalWei").GetString()));
        Assert.InRange(fee.GetProperty("gasPerIssue").GetInt64(), 1, 29_999);

        await zeroFee.DisposeAsync();

        var down = await ReconcileAsync(admin);
        Assert.False(string.IsNullOrWhiteSpace(down.GetProperty("report").GetProperty("error").GetString()), down.ToString());
        Assert.Empty(down.GetProperty("differences").EnumerateArray());
        var quote = await owner.GetAsync(feeUrl);
        var problem = await AdminTestKit.ProblemAsync(quote, HttpStatusCode.ServiceUnavailable, "provider.failed");
        Assert.True(int.Parse(quote.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) > 0, problem.ToString());
        var sold = await BuyAsync(host, customer, campaignId, 1);
        await host.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();
        await host.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync();
        var receipts = await ReceiptsAsync(customer, $"/api/customer/vouchers/{sold[0]}");
        Assert.All(receipts, r => Assert.NotEqual("Confirmed", r.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Fifty_concurrent_purchases_and_redemptions_over_HTTP_while_the_worker_runs_settle_exactly_once_on_chain()
    {
        const int customers = 10;
        const int perCustomer = 5;
        await using var host = await StartHostAsync(chain.RpcUrl, jobs: true);
        var admin = await host.AdminAsync();
        var scenario = new MerchantScenario(host);
        var (owner, _, merchantId, campaignId) = await scenario.ReadyMerchantAsync(campaign: StoredValueCampaign(supply: 200));
        var (staff, _) = await scenario.StaffAsync(owner, merchantId);
        var buyers = new List<HttpClient>();
        for (var i = 0; i < customers; i++)
        {
            buyers.Add((await CustomerAsync(host)).Client);
        }

        using var mining = new CancellationTokenSource();
        var miner = Task.Run(async () =>
        {
            while (!mining.IsCancellationRequested)
            {
                await Chain.MineAsync(chain.RpcUrl);
                await Task.Delay(250);
            }
        });
        await Task.WhenAll(Enumerable.Range(0, customers * perCustomer).Select(async i =>
        {
            var buyer = buyers[i % customers];
            var voucherId = Assert.Single(await BuyAsync(host, buyer, campaignId, 1));
            var code = (await buyer.GetFromJsonAsync<JsonElement>($"/api/customer/vouchers/{voucherId}")).GetProperty("voucher").GetProperty("code").GetString();
            var redeemed = await ApiHost.PostIdempotentAsync(staff, $"/api/merchants/{merchantId}/redemptions", new { code, amount = 100 + i });
            Assert.True(redeemed.IsSuccessStatusCode, await redeemed.Content.ReadAsStringAsync());
        }));

        // The background worker and jobs do the sending; the test only mines and waits for them.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var open = await QueryAsync(host, db => db.ChainLedgerEvents.CountAsync(e => e.Status != ChainEventStatus.Confirmed));
            var pending = await QueryAsync(host, db => db.LedgerReceipts.CountAsync(r => r.Status != LedgerReceiptStatus.Confirmed));
            var receipts = await QueryAsync(host, db => db.LedgerReceipts.CountAsync());
            if (open == 0 && pending == 0 && receipts == 2 * customers * perCustomer)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Not settled: {open} chain event(s) not confirmed, {pending} receipt(s) not confirmed, {receipts} receipt(s).");
            await Task.Delay(250);
        }

        await mining.CancelAsync();
        await miner;

        var contractAddress = (await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync())!.Address;
        var reader = new VoucherLedgerContract(new Web3(chain.RpcUrl), contractAddress);
        var keys = await QueryAsync(host, db => db.ChainLedgerVouchers.AsNoTracking().ToListAsync());
        Assert.Equal(customers * perCustomer, keys.Count);
        foreach (var key in keys)
        {
            var onChain = await reader.GetVoucherAsync(key.CampaignId, (uint)key.Serial);
            var events = await QueryAsync(host, db => db.LedgerReceipts.CountAsync(r => r.VoucherId == key.VoucherId));
            Assert.True(onChain.Seq == events && events == 2, $"voucher {key.VoucherId}: {events} event(s), seq {onChain.Seq} on chain");
        }

        var report = await ReconcileAsync(admin);
        Assert.Equal(JsonValueKind.Null, report.GetProperty("report").GetProperty("error").ValueKind);
        Assert.Equal(customers * perCustomer, report.GetProperty("report").GetProperty("vouchersChecked").GetInt64());
        Assert.Equal((0L, 0L), (report.GetProperty("report").GetProperty("differenceCount").GetInt64(), report.GetProperty("report").GetProperty("inFlight").GetInt64()));
    }

    private static object StoredValueCampaign(int supply = 100, int perCustomerLimit = 10) => new
    {
        texts = new[] { new { language = "en", name = "Coffee card", description = "Fifty francs of coffee" } },
        defaultLanguage = "en",
        currency = "CHF",
        faceValue = 5000,
        price = 4500,
        kind = "StoredValue",
        supply,
        perCustomerLimit,
        validityKind = "DaysAfterPurchase",
        validityDays = 365,
        transferable = true,
        exchangeable = true,
    };

    private static Task<ApiHost> StartHostAsync(string rpcUrl, bool jobs = false) => ApiHost.StartAsync(
        new Dictionary<string, string?>
        {
            ["OpenMavn:Jobs:Enabled"] = jobs ? "true" : "false",
            ["OpenMavn:Jobs:Interval"] = "00:00:00.200",
            ["OpenMavn:Ledger:Ethereum:RpcUrl"] = rpcUrl,
            ["OpenMavn:Ledger:Ethereum:ChainId"] = Anvil.ChainId.ToString(CultureInfo.InvariantCulture),
            ["OpenMavn:Ledger:Ethereum:OperatorPrivateKey"] = Anvil.PrivateKeys[0],
            ["OpenMavn:Ledger:Ethereum:Confirmations"] = "2",
            ["OpenMavn:Ledger:Ethereum:RequestTimeout"] = "00:00:05",
            ["OpenMavn:Ledger:Ethereum:PollInterval"] = "00:00:00.200",
        },
        openMavn: b => b.AddEthereumLedger());

    private static async Task<(HttpClient Client, string Email)> CustomerAsync(ApiHost host)
    {
        var email = $"c{Guid.NewGuid():N}@example.ch";
        var (client, _) = await host.SignUpAsync(email);
        var profile = await client.PutAsJsonAsync("/api/customer/profile", new { displayName = "Test Customer", language = "en" });
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        return (client, email);
    }

    /// <summary>An order with an Idempotency-Key, paid on the sandbox page; returns the order's voucher ids.</summary>
    private static async Task<List<Guid>> BuyAsync(ApiHost host, HttpClient customer, Guid campaignId, int quantity)
    {
        var order = await ApiHost.PostIdempotentAsync(customer, "/api/customer/orders", new { campaignId, quantity });
        var body = await order.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(order.StatusCode == HttpStatusCode.Created, body.ToString());
        var paymentId = new Uri(body.GetProperty("checkoutUrl").GetString()!).Segments[^1];
        using var page = host.Client();
        var paid = await page.PostAsync($"/sandbox/checkout/{paymentId}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        var orderId = body.GetProperty("id").GetGuid();
        var vouchers = await QueryAsync(host, db => db.Vouchers.AsNoTracking().Where(v => v.OrderId == orderId).Select(v => v.Id).ToListAsync());
        Assert.Equal(quantity, vouchers.Count);
        return vouchers;
    }

    private static async Task<List<JsonElement>> ReceiptsAsync(HttpClient client, string url)
    {
        var detail = await client.GetFromJsonAsync<JsonElement>(url);
        return detail.GetProperty("ledgerReceipts").EnumerateArray().ToList();
    }

    private static async Task<JsonElement> ReconcileAsync(HttpClient admin)
    {
        var response = await admin.PostAsync("/api/admin/ledger/reconciliations", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<T> QueryAsync<T>(ApiHost host, Func<OpenMavnDbContext, Task<T>> query)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>());
    }

    /// <summary>
    /// Delivers the outbox, runs the worker and the jobs (receipt refresh), and mines past the confirmation depth until
    /// every chain event is final and no receipt is pending.
    /// </summary>
    private static async Task SettleAsync(ApiHost host, string rpcUrl, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var worker = host.Services.GetRequiredService<EthereumLedgerWorker>();
        var jobs = host.Services.GetRequiredService<OpenMavnJobs>();
        var rounds = new List<EthereumWorkerRound>();
        while (true)
        {
            await host.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();
            rounds.Add(await worker.RunOnceAsync());
            await Chain.MineAsync(rpcUrl, 3);
            rounds.Add(await worker.RunOnceAsync());
            await jobs.RunOnceAsync();
            var open = await QueryAsync(host, db => db.ChainLedgerEvents.CountAsync(e => e.Status != ChainEventStatus.Confirmed && e.Status != ChainEventStatus.Failed));
            var pending = await QueryAsync(host, db => db.LedgerReceipts.CountAsync(r => r.Status == LedgerReceiptStatus.Pending));
            var outbox = await QueryAsync(host, db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null && m.FailedAt == null));
            if (open == 0 && pending == 0 && outbox == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Not settled: {open} chain event(s) open, {pending} receipt(s) pending, {outbox} outbox message(s). Rounds: {string.Join("; ", rounds.TakeLast(4))}");
        }
    }

    /// <summary>Sends a batch with the operator key straight to the contract: redeems <paramref name="amount"/> of a voucher the platform knows nothing about.</summary>
    private static async Task RedeemBehindTheBackAsync(ApiHost host, string rpcUrl, string contractAddress, Guid voucherId, uint amount)
    {
        var key = await QueryAsync(host, db => db.ChainLedgerVouchers.AsNoTracking().SingleAsync(v => v.VoucherId == voucherId));
        var web3 = new Web3(rpcUrl);
        var contract = new VoucherLedgerContract(web3, contractAddress);
        var campaign = await contract.GetCampaignAsync(key.CampaignId);
        var before = await contract.GetVoucherAsync(key.CampaignId, (uint)key.Serial);
        var batch = BatchCodec.Encode([new BatchGroup(key.CampaignId, campaign.Supply, campaign.FaceValue, [new BatchRecord(LedgerOp.Redeem, (uint)key.Serial, (ushort)(before.Seq + 1), Amount: amount)])]);
        const ulong batchId = 9_000_000;
        var signer = host.Services.GetRequiredService<OperatorSigner>();
        var nonce = (long)(await web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(signer.Address, BlockParameter.CreatePending())).Value;
        var data = contract.CreateRecordTransaction(signer.Address, batchId, batch).Data.HexToByteArray();
        var signed = signer.Sign(nonce, 1_000_000_000, 100_000_000_000, 1_000_000, contractAddress, data);
        await Chain.CallAsync(rpcUrl, "eth_sendRawTransaction", signed.Raw);
        // Automine mines right after the node accepted the transaction, not inside eth_sendRawTransaction: wait for it.
        var receipt = await web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(signed.Hash);
        for (var wait = 0; receipt is null && wait < 100; wait++)
        {
            await Task.Delay(100);
            receipt = await web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(signed.Hash);
        }

        Assert.NotNull(receipt);
        Assert.Equal([RecordResult.Applied], await contract.ReadResultsAsync(receipt, batchId));
        var after = await contract.GetVoucherAsync(key.CampaignId, (uint)key.Serial);
        Assert.Equal((before.Balance - amount, before.Seq + 1), (after.Balance, (int)after.Seq));
    }

    /// <summary>
    /// Checks a real response against the schema the OpenAPI document declares for it: every property the JSON holds
    /// is declared, with a type that admits the JSON value, and no schema on the way is an empty <c>{}</c>.
    /// </summary>
    private sealed class OpenApiDocumentCheck(JsonElement document)
    {
        public List<string> Problems { get; } = [];

        public void Check(string path, string method, string status, JsonElement response)
        {
            var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
            if (!operation.GetProperty("responses").TryGetProperty(status, out var declared)
                || !declared.TryGetProperty("content", out var content)
                || !content.TryGetProperty("application/json", out var json))
            {
                Problems.Add($"{method} {path}: no application/json {status} response");
                return;
            }

            Value($"{method} {path} {status}", json.GetProperty("schema"), response);
        }

        public List<string> Types(string schemaName, string property) =>
            TypesOf(Resolve(document.GetProperty("components").GetProperty("schemas").GetProperty(schemaName)).GetProperty("properties").GetProperty(property))
                .Where(t => t != "null").ToList();

        private JsonElement Resolve(JsonElement schema)
        {
            while (schema.TryGetProperty("$ref", out var reference))
            {
                schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
            }

            return schema;
        }

        private static List<string> TypesOf(JsonElement schema) =>
            !schema.TryGetProperty("type", out var type) ? []
            : type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList()
            : [type.GetString()!];

        private void Value(string where, JsonElement schema, JsonElement value)
        {
            schema = Resolve(schema);
            foreach (var combinator in new[] { "oneOf", "anyOf" })
            {
                if (schema.TryGetProperty(combinator, out var options))
                {
                    var candidates = options.EnumerateArray().Select(Resolve).ToList();
                    var fits = candidates.FirstOrDefault(c => value.ValueKind == JsonValueKind.Null ? TypesOf(c).Contains("null") : !TypesOf(c).SequenceEqual(["null"]));
                    if (fits.ValueKind == JsonValueKind.Undefined)
                    {
                        Problems.Add($"{where}: no {combinator} branch for {value.ValueKind}");
                        return;
                    }

                    Value(where, fits, value);
                    return;
                }
            }

            var types = TypesOf(schema);
            if (types.Count == 0 && !schema.TryGetProperty("enum", out _))
            {
                Problems.Add($"{where}: empty schema {schema}");
                return;
            }

            var kind = value.ValueKind switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => value.TryGetInt64(out _) ? "integer" : "number",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                JsonValueKind.Null => "null",
                JsonValueKind.Array => "array",
                _ => "object",
            };
            if (types.Count > 0 && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
            {
                Problems.Add($"{where}: {kind} value {value} but the schema says {string.Join("|", types)}");
                return;
            }

            if (kind == "array")
            {
                if (!schema.TryGetProperty("items", out var items))
                {
                    Problems.Add($"{where}: array without items");
                    return;
                }

                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Value($"{where}[{i++}]", items, item);
                }
            }
            else if (kind == "object")
            {
                if (!schema.TryGetProperty("properties", out var properties))
                {
                    Problems.Add($"{where}: object without properties");
                    return;
                }

                foreach (var property in value.EnumerateObject())
                {
                    if (!properties.TryGetProperty(property.Name, out var declared))
                    {
                        Problems.Add($"{where}.{property.Name}: not declared");
                        continue;
                    }

                    Value($"{where}.{property.Name}", declared, property.Value);
                }
            }
        }
    }

    /// <summary>A C# client generated by NSwag from the host's OpenAPI document and compiled in memory.</summary>
    private sealed class GeneratedClient(Type type)
    {
        public static async Task<GeneratedClient> CreateAsync(HttpClient anonymous)
        {
            var json = await anonymous.GetStringAsync("/openapi/v1.json");
            var document = await NSwag.OpenApiDocument.FromJsonAsync(json);
            var settings = new NSwag.CodeGeneration.CSharp.CSharpClientGeneratorSettings
            {
                ClassName = "OpenMavnClient",
                OperationNameGenerator = new NSwag.CodeGeneration.OperationNameGenerators.SingleClientFromOperationIdOperationNameGenerator(),
            };
            settings.CSharpGeneratorSettings.Namespace = "OpenMavn.Generated";
            settings.CSharpGeneratorSettings.JsonLibrary = NJsonSchema.CodeGeneration.CSharp.CSharpJsonLibrary.SystemTextJson;
            var code = new NSwag.CodeGeneration.CSharp.CSharpClientGenerator(document, settings).GenerateFile();
            var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
                .Select(path => Microsoft.CodeAnalysis.MetadataReference.CreateFromFile(path));
            var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create(
                "OpenMavn.Generated." + Guid.NewGuid().ToString("N"),
                [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(code)],
                references,
                new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(Microsoft.CodeAnalysis.OutputKind.DynamicallyLinkedLibrary));
            using var assembly = new MemoryStream();
            var emitted = compilation.Emit(assembly);
            Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).Take(20)));
            var loaded = System.Reflection.Assembly.Load(assembly.ToArray());
            return new GeneratedClient(loaded.GetType("OpenMavn.Generated.OpenMavnClient", throwOnError: true)!);
        }

        /// <summary>A client instance over <paramref name="http"/> (its address and bearer token).</summary>
        public object New(HttpClient http)
        {
            var client = Activator.CreateInstance(type, http)!;
            type.GetProperty("BaseUrl")?.SetValue(client, http.BaseAddress!.ToString());
            return client;
        }
    }
}
