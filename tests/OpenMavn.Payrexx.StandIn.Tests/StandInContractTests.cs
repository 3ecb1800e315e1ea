using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OpenMavn.Payrexx.StandIn.Tests;

/// <summary>Drives the stand-in with a plain HttpClient to prove it enforces payrexx-api.md.</summary>
public sealed class StandInContractTests : IAsyncLifetime
{
    private const string Instance = "blumenladen";
    private const string Secret = "s3cr3t-api-key-of-the-blumenladen";
    private const string SignedInstance = "signed";

    private PayrexxStandIn _payrexx = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _payrexx = await PayrexxStandIn.StartAsync();
        _payrexx.AddInstance(Instance, Secret);
        _payrexx.AddInstance(SignedInstance, PhpQueryTests.WorkedExampleSecret);
        _http = new HttpClient { BaseAddress = _payrexx.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _payrexx.DisposeAsync();
    }

    [Fact]
    public void Listens_on_the_loopback_address_only()
    {
        Assert.Equal("127.0.0.1", _payrexx.BaseUrl.Host);
        Assert.NotEqual(0, _payrexx.BaseUrl.Port);
        Assert.EndsWith("/", _payrexx.BaseUrl.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_credentials_or_with_a_wrong_X_API_KEY_the_answer_is_403_with_an_error_envelope()
    {
        var none = await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}", apiKey: null);
        await AssertErrorAsync(none, HttpStatusCode.Forbidden);

        var wrong = await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}", apiKey: Secret + "x");
        await AssertErrorAsync(wrong, HttpStatusCode.Forbidden);

        var otherInstancesKey = await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}", apiKey: PhpQueryTests.WorkedExampleSecret);
        await AssertErrorAsync(otherInstancesKey, HttpStatusCode.Forbidden);

        var right = await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}");
        await SuccessAsync(right);
    }

    [Fact]
    public async Task A_correct_ApiSignature_in_the_query_authenticates_a_GET_and_a_wrong_one_is_403()
    {
        // No parameters besides instance: the empty string is signed.
        var signature = Uri.EscapeDataString(PayrexxSignature.Compute(Secret, ""));
        await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}&ApiSignature={signature}", apiKey: null));

        var wrongSecret = Uri.EscapeDataString(PayrexxSignature.Compute(Secret + "x", ""));
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}&ApiSignature={wrongSecret}", apiKey: null), HttpStatusCode.Forbidden);

        // Instance is not signed; anything else in the query is.
        var signedOther = Uri.EscapeDataString(PayrexxSignature.Compute(Secret, "x=1"));
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}&ApiSignature={signature}&x=1", apiKey: null), HttpStatusCode.Forbidden);
        await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}&x=1&ApiSignature={signedOther}", apiKey: null));
    }

    [Fact]
    public async Task The_worked_example_sent_as_an_RFC3986_form_body_with_its_documented_ApiSignature_creates_a_gateway()
    {
        var body = FormBody([.. PhpQueryTests.WorkedExample, new("ApiSignature", PhpQueryTests.WorkedExampleSignature)]);
        Assert.Contains("purpose=Gutschein%20CHF%2050.00", body, StringComparison.Ordinal);

        var created = await SuccessAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={SignedInstance}", body, apiKey: null));

        Assert.Equal("waiting", created.GetProperty("status").GetString());
        Assert.Equal(5000, created.GetProperty("amount").GetInt64());
        Assert.Equal("Gutschein CHF 50.00", _payrexx.GetGateway(created.GetProperty("id").GetInt32()).Purpose);
    }

    [Fact]
    public async Task A_form_body_whose_ApiSignature_does_not_sign_its_parameters_is_403()
    {
        KeyValuePair<string, string>[] changed = [.. PhpQueryTests.WorkedExample.Select(p => p.Key == "amount" ? new(p.Key, "5001") : p)];
        var tampered = FormBody([.. changed, new("ApiSignature", PhpQueryTests.WorkedExampleSignature)]);
        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={SignedInstance}", tampered, apiKey: null), HttpStatusCode.Forbidden);

        // A signature left unescaped in the body: its '+' reads as a space, as on PHP.
        var unescaped = FormBody(PhpQueryTests.WorkedExample) + "&ApiSignature=" + PhpQueryTests.WorkedExampleSignature;
        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={SignedInstance}", unescaped, apiKey: null), HttpStatusCode.Forbidden);

        Assert.Empty(_payrexx.Gateways);
    }

    [Fact]
    public async Task Nested_fields_and_payment_methods_are_signed_as_PHP_rebuilds_them()
    {
        KeyValuePair<string, string>[] parameters =
        [
            new("amount", "2500"), new("currency", "CHF"), new("fields[email][value]", "anna@example.ch"),
            new("pm[0]", "twint"), new("pm[1]", "visa"),
        ];
        var signature = PayrexxSignature.Compute(Secret, "amount=2500&currency=CHF&fields%5Bemail%5D%5Bvalue%5D=anna%40example.ch&pm%5B0%5D=twint&pm%5B1%5D=visa");

        var created = await SuccessAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={Instance}", FormBody([.. parameters, new("ApiSignature", signature)]), apiKey: null));

        Assert.Equal("anna@example.ch", created.GetProperty("fields").GetProperty("email").GetProperty("value").GetString());
        Assert.Equal(["twint", "visa"], created.GetProperty("pm").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Without_or_with_an_unknown_instance_the_answer_is_422()
    {
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, "v1.15/SignatureCheck/"), HttpStatusCode.UnprocessableEntity);
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, "v1.15/SignatureCheck/?instance=nobody"), HttpStatusCode.UnprocessableEntity);
    }

    [Theory]
    [InlineData("v1.14/SignatureCheck/")]
    [InlineData("v1.0/SignatureCheck/")]
    [InlineData("v1.15/Invoice/")]
    [InlineData("v1.15/Gateway/abc/")]
    [InlineData("v1.15/Gateway/999/")]
    [InlineData("v1.15/Transaction/999/")]
    [InlineData("api/SignatureCheck/")]
    public async Task Old_versions_unknown_models_and_unknown_resources_are_404(string path)
    {
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, $"{path}{separator}instance={Instance}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Later_versions_are_served()
    {
        await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.16/SignatureCheck/?instance={Instance}"));
        await SuccessAsync(await SendAsync(HttpMethod.Get, $"v2.0/SignatureCheck/?instance={Instance}"));
    }

    [Theory]
    [InlineData("currency=CHF")]
    [InlineData("amount=5000")]
    [InlineData("amount=50.00&currency=CHF")]
    [InlineData("amount=0&currency=CHF")]
    [InlineData("amount=-5&currency=CHF")]
    [InlineData("amount=5000&currency=Swiss%20francs")]
    public async Task A_gateway_needs_a_positive_integer_amount_and_a_currency(string body)
    {
        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={Instance}", body), HttpStatusCode.UnprocessableEntity);
        Assert.Empty(_payrexx.Gateways);
    }

    [Fact]
    public async Task POST_parameters_belong_in_the_form_body_not_the_query()
    {
        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={Instance}&amount=5000&currency=CHF", ""), HttpStatusCode.UnprocessableEntity);
        await AssertErrorAsync(await SendAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={Instance}", content: new StringContent("""{"amount":5000,"currency":"CHF"}""", Encoding.UTF8, "application/json")), HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Create_get_pay_get_shows_the_confirmed_gateway_with_its_invoice_and_transaction()
    {
        var created = await CreateGatewayAsync("VOUCHER-000042", 5000);
        var id = created.GetProperty("id").GetInt32();
        Assert.Equal("waiting", created.GetProperty("status").GetString());
        Assert.Equal(new Uri(_payrexx.BaseUrl, $"pay/{id}").ToString(), created.GetProperty("link").GetString());
        Assert.Equal("CHF", created.GetProperty("currency").GetString());
        Assert.Equal("VOUCHER-000042", created.GetProperty("referenceId").GetString());
        Assert.Equal(0, created.GetProperty("invoices").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(created.GetProperty("link").GetString())).StatusCode);

        var before = await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/Gateway/{id}/?instance={Instance}"));
        Assert.Equal("waiting", before.GetProperty("status").GetString());
        Assert.Equal(0, before.GetProperty("invoices").GetArrayLength());

        var paid = _payrexx.Pay(id, test: true);
        Assert.Equal(["waiting", "confirmed"], paid.StatusHistory);

        var after = await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/Gateway/{id}/?instance={Instance}"));
        Assert.Equal("confirmed", after.GetProperty("status").GetString());
        var invoice = Assert.Single(after.GetProperty("invoices").EnumerateArray());
        Assert.Equal("VOUCHER-000042", invoice.GetProperty("referenceId").GetString());
        Assert.Equal(id, invoice.GetProperty("paymentRequestId").GetInt32());
        Assert.Equal("CHF", invoice.GetProperty("currency").GetString());
        Assert.Equal(1, invoice.GetProperty("test").GetInt32());
        Assert.Equal(5000, invoice.GetProperty("originalAmount").GetInt64());
        Assert.Equal(0, invoice.GetProperty("refundedAmount").GetInt64());
        var transaction = Assert.Single(invoice.GetProperty("transactions").EnumerateArray());
        Assert.Equal(paid.Id, transaction.GetProperty("id").GetInt32());
        Assert.Equal(paid.Uuid, transaction.GetProperty("uuid").GetString());
        Assert.Equal("confirmed", transaction.GetProperty("status").GetString());
        Assert.Equal(5000, transaction.GetProperty("amount").GetInt64());

        var read = await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/Transaction/{paid.Id}/?instance={Instance}"));
        Assert.Equal(paid.Uuid, read.GetProperty("uuid").GetString());
        Assert.Equal("confirmed", read.GetProperty("status").GetString());
        Assert.Equal("VOUCHER-000042", read.GetProperty("referenceId").GetString());
        Assert.Equal(id, read.GetProperty("invoice").GetProperty("paymentRequestId").GetInt32());

        // Another instance sees neither.
        _payrexx.AddInstance("other", "other-secret");
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, $"v1.15/Gateway/{id}/?instance=other", apiKey: "other-secret"), HttpStatusCode.NotFound);
        await AssertErrorAsync(await SendAsync(HttpMethod.Get, $"v1.15/Transaction/{paid.Id}/?instance=other", apiKey: "other-secret"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Declined_set_status_and_tampered_gateways_report_what_the_test_arranged()
    {
        var id = (await CreateGatewayAsync("VOUCHER-7", 1000)).GetProperty("id").GetInt32();
        var declined = _payrexx.Decline(id);
        var read = await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/Transaction/{declined.Id}/?instance={Instance}"));
        Assert.Equal("declined", read.GetProperty("status").GetString());

        _payrexx.SetStatus(id, "some-future-status");
        _payrexx.Tamper(id, amount: 1, currency: "EUR");
        var gateway = await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/Gateway/{id}/?instance={Instance}"));
        Assert.Equal("some-future-status", gateway.GetProperty("status").GetString());
        Assert.Equal(1, gateway.GetProperty("amount").GetInt64());
        Assert.Equal("EUR", gateway.GetProperty("currency").GetString());
        Assert.Equal(1, gateway.GetProperty("invoices")[0].GetProperty("transactions")[0].GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task A_partial_refund_then_the_rest_ends_refunded_and_more_is_refused()
    {
        var id = (await CreateGatewayAsync("VOUCHER-9", 5000)).GetProperty("id").GetInt32();
        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Transaction/{_payrexx.Decline(id).Id}/refund?instance={Instance}", ""), HttpStatusCode.UnprocessableEntity);
        var paid = _payrexx.Pay(id);

        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Transaction/{paid.Id}/refund?instance={Instance}", "amount=5001"), HttpStatusCode.UnprocessableEntity);
        var partial = await SuccessAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Transaction/{paid.Id}/refund?instance={Instance}", "amount=2000"));
        Assert.Equal("partially-refunded", partial.GetProperty("status").GetString());
        Assert.Equal(2000, partial.GetProperty("invoice").GetProperty("refundedAmount").GetInt64());

        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Transaction/{paid.Id}/refund?instance={Instance}", "amount=3001"), HttpStatusCode.UnprocessableEntity);
        var full = await SuccessAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Transaction/{paid.Id}/refund?instance={Instance}", ""));
        Assert.Equal("refunded", full.GetProperty("status").GetString());
        Assert.Equal(5000, full.GetProperty("invoice").GetProperty("refundedAmount").GetInt64());
        Assert.Equal(5000, _payrexx.GetTransaction(paid.Id).RefundedAmount);

        await AssertErrorAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Transaction/{paid.Id}/refund?instance={Instance}", ""), HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Refunds_can_be_left_pending()
    {
        var id = (await CreateGatewayAsync("VOUCHER-10", 800)).GetProperty("id").GetInt32();
        var paid = _payrexx.Pay(id);
        _payrexx.RefundsArePending = true;

        var pending = await SuccessAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Transaction/{paid.Id}/refund?instance={Instance}", "amount=300"));

        Assert.Equal("refund_pending", pending.GetProperty("status").GetString());
    }

    [Fact]
    public async Task FailNext_answers_exactly_one_request_with_the_status_code()
    {
        _payrexx.FailNext(500);

        await AssertErrorAsync(await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}"), HttpStatusCode.InternalServerError);
        await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}"));
    }

    [Fact]
    public async Task FailNextWith_can_send_malformed_JSON_or_stall_past_the_client_timeout()
    {
        _payrexx.FailNextWith(context => context.Response.WriteAsync("{\"status\":\"succ", context.RequestAborted));
        _payrexx.FailNextWith(context => Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted));

        var malformed = await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}");
        Assert.Equal(HttpStatusCode.OK, malformed.StatusCode);
        var text = await malformed.Content.ReadAsStringAsync();
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));

        using var impatient = new HttpClient { BaseAddress = _payrexx.BaseUrl, Timeout = TimeSpan.FromMilliseconds(300) };
        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync($"v1.15/SignatureCheck/?instance={Instance}"));

        await SuccessAsync(await SendAsync(HttpMethod.Get, $"v1.15/SignatureCheck/?instance={Instance}"));
    }

    [Fact]
    public async Task Two_identical_creates_make_two_gateways()
    {
        var first = await CreateGatewayAsync("VOUCHER-1", 5000);
        var second = await CreateGatewayAsync("VOUCHER-1", 5000);

        Assert.NotEqual(first.GetProperty("id").GetInt32(), second.GetProperty("id").GetInt32());
        Assert.Equal(2, _payrexx.Gateways.Count(g => g.ReferenceId == "VOUCHER-1"));
    }

    [Fact]
    public async Task Parallel_creates_get_distinct_ids_and_are_all_recorded()
    {
        var created = await Task.WhenAll(Enumerable.Range(1, 40).Select(i => CreateGatewayAsync($"VOUCHER-P{i}", 100 + i)));

        var ids = created.Select(c => c.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(40, ids.Distinct().Count());
        Assert.Equal(Enumerable.Range(1, 40), ids.Order());
        Assert.Equal(40, _payrexx.Requests.Count(r => r.Method == "POST"));
    }

    [Fact]
    public async Task Delete_removes_a_gateway_and_an_unknown_one_is_404()
    {
        var id = (await CreateGatewayAsync("VOUCHER-3", 100)).GetProperty("id").GetInt32();

        await SuccessAsync(await SendFormAsync(HttpMethod.Delete, $"v1.15/Gateway/{id}/?instance={Instance}", ""));

        await AssertErrorAsync(await SendAsync(HttpMethod.Get, $"v1.15/Gateway/{id}/?instance={Instance}"), HttpStatusCode.NotFound);
        await AssertErrorAsync(await SendFormAsync(HttpMethod.Delete, $"v1.15/Gateway/{id}/?instance={Instance}", ""), HttpStatusCode.NotFound);
        await AssertErrorAsync(await SendFormAsync(HttpMethod.Delete, $"v1.15/Gateway/4711/?instance={Instance}", ""), HttpStatusCode.NotFound);
        Assert.True(_payrexx.GetGateway(id).Deleted);
    }

    [Fact]
    public async Task Requests_records_what_the_client_sent()
    {
        _payrexx.ClearRequests();
        await CreateGatewayAsync("VOUCHER-5", 1234);

        var request = Assert.Single(_payrexx.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/v1.15/Gateway/?instance={Instance}", request.PathAndQuery);
        Assert.Equal(Secret, request.Headers["x-api-key"]);
        Assert.StartsWith("application/x-www-form-urlencoded", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Contains(new KeyValuePair<string, string>("referenceId", "VOUCHER-5"), request.Form);
        Assert.Contains(new KeyValuePair<string, string>("instance", Instance), request.Query);
        Assert.Contains("amount=1234", request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhooks_carry_the_documented_fields_as_JSON_and_as_PHP_form_fields()
    {
        var id = (await CreateGatewayAsync("VOUCHER-000077", 5000)).GetProperty("id").GetInt32();
        Assert.Throws<InvalidOperationException>(() => _payrexx.BuildWebhook(id, "confirmed"));
        var paid = _payrexx.Pay(id, test: true);

        var (jsonType, jsonBody) = _payrexx.BuildWebhook(id, "waiting", asForm: false);
        Assert.StartsWith("application/json", jsonType, StringComparison.Ordinal);
        var transaction = JsonDocument.Parse(jsonBody).RootElement.GetProperty("transaction");
        Assert.Equal(paid.Id, transaction.GetProperty("id").GetInt32());
        Assert.Equal(paid.Uuid, transaction.GetProperty("uuid").GetString());
        Assert.Equal("waiting", transaction.GetProperty("status").GetString());
        Assert.Equal(5000, transaction.GetProperty("amount").GetInt64());
        Assert.Equal("VOUCHER-000077", transaction.GetProperty("referenceId").GetString());
        var invoice = transaction.GetProperty("invoice");
        Assert.Equal("VOUCHER-000077", invoice.GetProperty("referenceId").GetString());
        Assert.Equal(id, invoice.GetProperty("paymentRequestId").GetInt32());
        Assert.Equal("CHF", invoice.GetProperty("currency").GetString());
        Assert.Equal(1, invoice.GetProperty("test").GetInt32());
        Assert.Equal(5000, invoice.GetProperty("originalAmount").GetInt64());
        Assert.Equal(0, invoice.GetProperty("refundedAmount").GetInt64());

        var (formType, formBody) = _payrexx.BuildWebhook(id, "confirmed", asForm: true);
        Assert.Equal("application/x-www-form-urlencoded", formType);
        var fields = PhpQuery.ParsePairs(formBody).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(paid.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["transaction[id]"]);
        Assert.Equal(paid.Uuid, fields["transaction[uuid]"]);
        Assert.Equal("confirmed", fields["transaction[status]"]);
        Assert.Equal("5000", fields["transaction[amount]"]);
        Assert.Equal("VOUCHER-000077", fields["transaction[referenceId]"]);
        Assert.Equal("VOUCHER-000077", fields["transaction[invoice][referenceId]"]);
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["transaction[invoice][paymentRequestId]"]);
        Assert.Equal("CHF", fields["transaction[invoice][currency]"]);
        Assert.Equal("1", fields["transaction[invoice][test]"]);
        Assert.Equal("5000", fields["transaction[invoice][originalAmount]"]);
        Assert.Equal("0", fields["transaction[invoice][refundedAmount]"]);
        Assert.Contains("transaction%5Binvoice%5D%5BreferenceId%5D=VOUCHER-000077", formBody, StringComparison.Ordinal);
    }

    // ---- helpers ----

    private async Task<JsonElement> CreateGatewayAsync(string referenceId, long amount) =>
        await SuccessAsync(await SendFormAsync(HttpMethod.Post, $"v1.15/Gateway/?instance={Instance}", FormBody(
        [
            new("amount", amount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("currency", "CHF"),
            new("purpose", $"Gutschein {referenceId}"),
            new("referenceId", referenceId),
            new("successRedirectUrl", "https://shop.example.ch/ok"),
        ])));

    private static string FormBody(IEnumerable<KeyValuePair<string, string>> pairs) =>
        string.Join('&', pairs.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));

    private Task<HttpResponseMessage> SendFormAsync(HttpMethod method, string url, string body, string? apiKey = Secret) =>
        SendAsync(method, url, apiKey, new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"));

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? apiKey = Secret, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (apiKey is not null)
        {
            request.Headers.Add("X-API-KEY", apiKey);
        }

        return await _http.SendAsync(request);
    }

    private static async Task<JsonElement> SuccessAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal("success", root.GetProperty("status").GetString());
        return Assert.Single(root.GetProperty("data").EnumerateArray());
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal("error", root.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("reason").GetString()));
    }
}
