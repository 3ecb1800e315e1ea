using Microsoft.Extensions.Time.Testing;
using OpenMavn.Core;
using OpenMavn.Core.Payments;

namespace OpenMavn.Payments.Payrexx.Tests;

/// <summary>The client against a recording Kestrel server on 127.0.0.1: exactly what goes over the wire.</summary>
public sealed class PayrexxHttpTests
{
    private const string Secret = "7f3Kq9LmZx2Vb8NcR4tY6uWp1sHd5JgA";
    private static readonly PaymentAccountCredentials Account = new("demo-shop", Secret);
    private static readonly Guid Order = Guid.Parse("0196a1f2-7c3e-7d40-9a51-0b2c3d4e5f60");

    private static ScriptedAnswer Ok(string data) => new(200, $$"""{"status":"success","data":[{{data}}]}""");

    private static CheckoutRequest Checkout(DateTimeOffset now, string? email = "anna+1@example.ch") => new(
        Order,
        Account,
        new Money(5000, "CHF"),
        "Gutschein CHF 50.00 × 1",
        "de",
        email,
        now.AddMinutes(15).AddSeconds(30),
        new Uri("https://shop.example.ch/voucher/success?ref=A 1"),
        new Uri("https://shop.example.ch/voucher/failed"),
        null);

    [Fact]
    public async Task Create_with_the_API_key_sends_the_header_and_an_RFC3986_form_body()
    {
        await using var server = await RecordingServer.StartAsync(Ok("""{"id":123456,"status":"waiting","link":"https://demo-shop.payrexx.com/?payment=abc"}"""));
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 7, 1, 10, 0, 0, TimeSpan.Zero));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl, time: time);

        var session = await provider.CreateCheckoutAsync(Checkout(time.GetUtcNow()));

        Assert.Equal(new CheckoutSession("123456", new Uri("https://demo-shop.payrexx.com/?payment=abc")), session);
        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1.15/Gateway/?instance=demo-shop", request.RawTarget);
        Assert.Equal(Secret, request.Headers["X-API-KEY"]);
        Assert.StartsWith("application/x-www-form-urlencoded", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal(
            "amount=5000&currency=CHF&purpose=Gutschein%20CHF%2050.00%20%C3%97%201&referenceId=" + Order
            + "&successRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Fsuccess%3Fref%3DA%25201"
            + "&failedRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Ffailed"
            + "&validity=15&fields%5Bemail%5D%5Bvalue%5D=anna%2B1%40example.ch",
            request.Body);
        Assert.DoesNotContain("ApiSignature", request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_with_the_signature_sends_ApiSignature_over_the_PHP_query_string_and_no_key_header()
    {
        await using var server = await RecordingServer.StartAsync(Ok("""{"id":"77","link":"https://demo-shop.payrexx.com/?payment=x"}"""));
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 7, 1, 10, 0, 0, TimeSpan.Zero));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl, o => o.AuthScheme = PayrexxAuthScheme.Signature, time);

        await provider.CreateCheckoutAsync(Checkout(time.GetUtcNow(), email: null) with { ExpiresAt = time.GetUtcNow().AddSeconds(20) });

        var request = Assert.Single(server.Requests);
        Assert.False(request.Headers.ContainsKey("X-API-KEY"));
        var signed = "amount=5000&currency=CHF&purpose=Gutschein+CHF+50.00+%C3%97+1&referenceId=" + Order
            + "&successRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Fsuccess%3Fref%3DA%25201"
            + "&failedRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Ffailed&validity=1";
        var signature = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Secret), System.Text.Encoding.UTF8.GetBytes(signed)));
        Assert.Equal(
            "amount=5000&currency=CHF&purpose=Gutschein%20CHF%2050.00%20%C3%97%201&referenceId=" + Order
            + "&successRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Fsuccess%3Fref%3DA%25201"
            + "&failedRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Ffailed&validity=1"
            + "&ApiSignature=" + Uri.EscapeDataString(signature),
            request.Body);
    }

    [Theory]
    [InlineData("[{\"id\":11,\"status\":\"declined\"},{\"id\":12,\"status\":\"confirmed\"}]", "12", PaymentStatus.Confirmed)]
    [InlineData("[{\"id\":12,\"status\":\"confirmed\"},{\"id\":11,\"status\":\"declined\"}]", "12", PaymentStatus.Confirmed)]
    [InlineData("[{\"id\":11,\"status\":\"declined\"},{\"id\":12,\"status\":\"refunded\"}]", "12", PaymentStatus.Refunded)]
    [InlineData("[{\"id\":11,\"status\":\"declined\"},{\"id\":13,\"status\":\"waiting\"}]", "13", PaymentStatus.Confirmed)]
    public void After_a_declined_attempt_the_transaction_that_carries_the_money_is_reported(string transactions, string expectedTransaction, PaymentStatus expected)
    {
        // A shopper whose first card was declined pays with a second one: the gateway has two transactions, and a
        // refund must go to the one that took the money, not the declined attempt.
        using var gateway = System.Text.Json.JsonDocument.Parse($$"""
            {"id":77,"status":"confirmed","amount":5000,"currency":"CHF","referenceId":"{{Order}}","invoices":[{"test":0,"transactions":{{transactions}}}]}
            """);

        var report = PayrexxPaymentProvider.Report("77", gateway.RootElement, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal(expectedTransaction, report.TransactionId);
        Assert.Equal(expected, report.Status);
    }

    [Fact]
    public async Task Get_with_the_signature_signs_the_empty_string_in_the_query()
    {
        await using var server = await RecordingServer.StartAsync(Ok($$"""
            {"id":123456,"status":"confirmed","amount":5000,"currency":"chf","referenceId":"{{Order}}",
             "invoices":[{"test":1,"transactions":[{"id":4711,"status":"confirmed"}]}]}
            """));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl, o => o.AuthScheme = PayrexxAuthScheme.Signature);

        var report = await provider.GetPaymentAsync(Account, "123456");

        Assert.Equal(new PaymentStatusReport("123456", PaymentStatus.Confirmed, "confirmed", 5000, "CHF", Order, "4711", IsTest: true), report);
        var request = Assert.Single(server.Requests);
        Assert.Equal("GET", request.Method);
        var emptySignature = Uri.EscapeDataString(PhpQueryString.Sign("", Secret));
        Assert.Equal($"/v1.15/Gateway/123456/?instance=demo-shop&ApiSignature={emptySignature}", request.RawTarget);
        Assert.Equal("", request.Body);
        Assert.False(request.Headers.ContainsKey("X-API-KEY"));
    }

    [Fact]
    public async Task Verify_calls_SignatureCheck_with_the_key_header()
    {
        await using var server = await RecordingServer.StartAsync(new ScriptedAnswer(200, """{"status":"success","data":[]}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl + "/white-label", o => o.ApiVersion = "1.16");

        await provider.VerifyAccountAsync(new PaymentAccountCredentials("my shop", Secret));

        var request = Assert.Single(server.Requests);
        Assert.Equal("GET /white-label/v1.16/SignatureCheck/?instance=my+shop", $"{request.Method} {request.RawTarget}");
        Assert.Equal(Secret, request.Headers["X-API-KEY"]);
    }

    [Fact]
    public async Task A_403_error_envelope_is_a_final_ProviderException_with_Payrexx_message()
    {
        await using var server = await RecordingServer.StartAsync(new ScriptedAnswer(403, """{"status":"error","message":"The API secret is not correct","reason":"signature"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.VerifyAccountAsync(Account));

        Assert.False(error.IsTransient);
        Assert.Equal("payrexx", error.Provider);
        Assert.Contains("The API secret is not correct", error.Message, StringComparison.Ordinal);
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_200_error_envelope_of_older_versions_is_refused_too()
    {
        await using var server = await RecordingServer.StartAsync(new ScriptedAnswer(200, """{"status":"error","message":"Signature invalid"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.VerifyAccountAsync(Account));

        Assert.False(error.IsTransient);
        Assert.Contains("Signature invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_5xx_on_GET_is_retried()
    {
        await using var server = await RecordingServer.StartAsync(
            new ScriptedAnswer(502, "<html>bad gateway</html>"),
            new ScriptedAnswer(503, """{"status":"error","message":"maintenance"}"""),
            Ok("""{"id":5,"status":"waiting","amount":5000,"currency":"CHF"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var report = await provider.GetPaymentAsync(Account, "5");

        Assert.Equal(PaymentStatus.Pending, report.Status);
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("/v1.15/Gateway/5/?instance=demo-shop", r.RawTarget));
    }

    [Fact]
    public async Task A_GET_gives_up_after_two_retries_with_a_transient_error()
    {
        await using var server = await RecordingServer.StartAsync(
            new ScriptedAnswer(500, """{"status":"error","message":"boom 1"}"""),
            new ScriptedAnswer(500, """{"status":"error","message":"boom 2"}"""),
            new ScriptedAnswer(500, """{"status":"error","message":"boom 3"}"""),
            Ok("""{"id":5,"status":"confirmed"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.GetPaymentAsync(Account, "5"));

        Assert.True(error.IsTransient);
        Assert.Contains("boom 3", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task A_5xx_on_POST_Gateway_is_not_retried()
    {
        await using var server = await RecordingServer.StartAsync(
            new ScriptedAnswer(500, """{"status":"error","message":"internal"}"""),
            Ok("""{"id":6,"link":"https://demo-shop.payrexx.com/?payment=second"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateCheckoutAsync(Checkout(DateTimeOffset.UtcNow)));

        Assert.True(error.IsTransient);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_timeout_on_POST_is_transient_and_not_retried()
    {
        await using var server = await RecordingServer.StartAsync(
            new ScriptedAnswer(200, """{"status":"success","data":[{"id":1,"link":"https://x.example/"}]}""", Delay: TimeSpan.FromSeconds(5)),
            Ok("""{"id":2,"link":"https://x.example/"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl, o => o.RequestTimeout = TimeSpan.FromMilliseconds(300));

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateCheckoutAsync(Checkout(DateTimeOffset.UtcNow)));

        Assert.True(error.IsTransient);
        Assert.Contains("did not answer", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_429_carries_Retry_After()
    {
        await using var server = await RecordingServer.StartAsync(
            new ScriptedAnswer(429, """{"status":"error","message":"Too many requests"}""", new Dictionary<string, string> { ["Retry-After"] = "30" }));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.RefundAsync(new RefundRequest(Guid.NewGuid(), Account, "5", "4711", new Money(1000, "CHF"), IsFullRefund: false)));

        Assert.True(error.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(30), error.RetryAfter);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Cancel_deletes_the_gateway_and_a_404_means_already_gone()
    {
        await using var server = await RecordingServer.StartAsync(
            Ok("""{"id":5}"""),
            new ScriptedAnswer(404, """{"status":"error","message":"No Gateway found with id 6"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl, o => o.AuthScheme = PayrexxAuthScheme.Signature);

        await provider.CancelCheckoutAsync(Account, "5");
        await provider.CancelCheckoutAsync(Account, "6");

        var requests = server.Requests.ToArray();
        Assert.Equal(["DELETE /v1.15/Gateway/5/?instance=demo-shop", "DELETE /v1.15/Gateway/6/?instance=demo-shop"], requests.Select(r => $"{r.Method} {r.RawTarget}"));
        Assert.Equal("ApiSignature=" + Uri.EscapeDataString(PhpQueryString.Sign("", Secret)), requests[0].Body);
    }

    [Fact]
    public async Task Refund_posts_the_amount_for_a_partial_refund_and_nothing_for_a_full_one()
    {
        await using var server = await RecordingServer.StartAsync(
            Ok("""{"id":5,"status":"confirmed","amount":5000,"currency":"CHF","invoices":[{"refundedAmount":0,"transactions":[{"id":4711}]}]}"""),
            Ok("""{"id":4711,"uuid":"r-1","status":"partially-refunded"}"""),
            Ok("""{"id":6,"status":"confirmed","amount":5000,"currency":"CHF","invoices":[{"refundedAmount":0,"transactions":[{"id":4712}]}]}"""),
            Ok("""{"id":4712,"uuid":"r-2","status":"refund_pending"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var partial = await provider.RefundAsync(new RefundRequest(Guid.NewGuid(), Account, "5", "4711", new Money(1000, "CHF"), IsFullRefund: false, AlreadyRefunded: new Money(0, "CHF")));
        var full = await provider.RefundAsync(new RefundRequest(Guid.NewGuid(), Account, "6", "4712", new Money(5000, "CHF"), IsFullRefund: true, AlreadyRefunded: new Money(0, "CHF")));

        Assert.Equal(new RefundOutcome(RefundStatus.Completed, "r-1"), partial);
        Assert.Equal(new RefundOutcome(RefundStatus.Pending, "r-2"), full);
        var requests = server.Requests.ToArray();
        Assert.Equal("GET /v1.15/Gateway/5/?instance=demo-shop", $"{requests[0].Method} {requests[0].RawTarget}");
        Assert.Equal("POST /v1.15/Transaction/4711/refund?instance=demo-shop", $"{requests[1].Method} {requests[1].RawTarget}");
        Assert.Equal("amount=1000", requests[1].Body);
        Assert.Equal("GET /v1.15/Gateway/6/?instance=demo-shop", $"{requests[2].Method} {requests[2].RawTarget}");
        Assert.Equal("POST /v1.15/Transaction/4712/refund?instance=demo-shop", $"{requests[3].Method} {requests[3].RawTarget}");
        Assert.Equal("", requests[3].Body);
    }

    [Fact]
    public async Task A_refund_Payrexx_already_made_is_not_posted_again()
    {
        // Payrexx shows 3000 refunded; 2000 of it belongs to earlier refunds, so this 1000 was made by a lost attempt.
        await using var server = await RecordingServer.StartAsync(
            Ok("""{"id":7,"status":"partially-refunded","amount":5000,"currency":"CHF","invoices":[{"refundedAmount":3000,"transactions":[{"id":4713}]}]}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var outcome = await provider.RefundAsync(new RefundRequest(Guid.NewGuid(), Account, "7", "4713", new Money(1000, "CHF"), IsFullRefund: false, AlreadyRefunded: new Money(2000, "CHF")));

        Assert.Equal(RefundStatus.Completed, outcome.Status);
        var request = Assert.Single(server.Requests);
        Assert.Equal("GET", request.Method);
    }

    [Fact]
    public async Task Unknown_gateway_status_is_reported_as_Unknown_and_missing_invoices_are_fine()
    {
        await using var server = await RecordingServer.StartAsync(Ok("""{"id":5,"status":"teleported","amount":"5000","currency":"EUR","referenceId":"VOUCHER-1"}"""));
        using var provider = PayrexxTestHost.Provider(server.BaseUrl);

        var report = await provider.GetPaymentAsync(Account, "5");

        Assert.Equal(new PaymentStatusReport("5", PaymentStatus.Unknown, "teleported", 5000, "EUR", null, null, IsTest: false), report);
    }
}
