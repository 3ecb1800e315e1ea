using System.Text;
using OpenMavn.Core.Payments;

namespace OpenMavn.Payments.Payrexx.Tests;

public sealed class PayrexxWebhooksTests
{
    private static readonly Guid Order = Guid.Parse("0196a1f2-7c3e-7d40-9a51-0b2c3d4e5f60");

    private static PaymentWebhookHint? Parse(string? contentType, string body)
    {
        using var provider = PayrexxTestHost.Provider("http://127.0.0.1:9/");
        return provider.ParseWebhookAsync(new PaymentWebhookRequest(contentType, Encoding.UTF8.GetBytes(body), new Dictionary<string, string>())).GetAwaiter().GetResult();
    }

    [Fact]
    public void Reads_a_JSON_webhook()
    {
        var hint = Parse("application/json", """
            {"transaction":{"id":4711,"uuid":"a1b2c3d4","status":"confirmed","amount":5000,"referenceId":"ignored",
             "invoice":{"referenceId":"ORDER","paymentRequestId":123456,"currency":"CHF","test":1,"originalAmount":5000,"refundedAmount":0},
             "contact":{"email":"anna@example.ch"}}}
            """.Replace("ORDER", Order.ToString(), StringComparison.Ordinal));

        Assert.Equal(new PaymentWebhookHint("123456", Order, "a1b2c3d4:confirmed"), hint);
    }

    [Fact]
    public void Reads_PHP_form_fields()
    {
        var body = $"transaction%5Bid%5D=4711&transaction%5Buuid%5D=a1b2c3d4&transaction%5Bstatus%5D=waiting"
            + $"&transaction%5Binvoice%5D%5BreferenceId%5D={Order}&transaction[invoice][paymentRequestId]=123456"
            + "&transaction%5Binvoice%5D%5Bproducts%5D%5B0%5D%5Bname%5D=Gutschein+CHF+50&transaction%5Bcontact%5D%5Bemail%5D=a%2Bb%40x.ch";

        var hint = Parse("application/x-www-form-urlencoded; charset=UTF-8", body);

        Assert.Equal(new PaymentWebhookHint("123456", Order, "a1b2c3d4:waiting"), hint);
    }

    [Fact]
    public void Sniffs_the_body_when_the_content_type_says_nothing_useful()
    {
        var json = """  {"transaction":{"uuid":"u1","status":"confirmed","invoice":{"paymentRequestId":"77","referenceId":"ORDER"}}}""".Replace("ORDER", Order.ToString(), StringComparison.Ordinal);
        var form = $"transaction[uuid]=u1&transaction[status]=confirmed&transaction[invoice][paymentRequestId]=77&transaction[invoice][referenceId]={Order}";
        var expected = new PaymentWebhookHint("77", Order, "u1:confirmed");

        Assert.Equal(expected, Parse(null, json));
        Assert.Equal(expected, Parse("text/plain", form));
        Assert.Equal(expected, Parse("", form));
    }

    [Fact]
    public void Falls_back_to_the_transaction_reference_and_to_the_order_alone()
    {
        var hint = Parse("application/json", """{"transaction":{"uuid":"u2","status":"declined","referenceId":"ORDER"}}""".Replace("ORDER", Order.ToString(), StringComparison.Ordinal));

        Assert.Equal(new PaymentWebhookHint(null, Order, "u2:declined"), hint);
    }

    [Fact]
    public void A_reference_that_is_not_ours_still_gives_the_gateway()
    {
        var hint = Parse("application/json", """{"transaction":{"uuid":"u3","status":"confirmed","invoice":{"referenceId":"VOUCHER-1","paymentRequestId":9}}}""");

        Assert.Equal(new PaymentWebhookHint("9", null, "u3:confirmed"), hint);
    }

    [Theory]
    [InlineData("application/json", "")]
    [InlineData("application/json", "not json")]
    [InlineData("application/json", "[1,2,3]")]
    [InlineData("application/json", "\"transaction\"")]
    [InlineData("application/json", "null")]
    [InlineData("application/json", "{\"transaction\":")]
    [InlineData("application/json", "{\"transaction\":null}")]
    [InlineData("application/json", "{\"transaction\":{\"uuid\":\"u\",\"status\":\"confirmed\"}}")]
    [InlineData("application/json", "{\"transaction\":{\"status\":\"confirmed\",\"invoice\":{\"paymentRequestId\":5}}}")]
    [InlineData("application/json", "{\"transaction\":{\"uuid\":{\"x\":1},\"invoice\":{\"paymentRequestId\":[]}}}")]
    [InlineData("application/x-www-form-urlencoded", "")]
    [InlineData("application/x-www-form-urlencoded", "&&&===")]
    [InlineData("application/x-www-form-urlencoded", "transaction[[[]]]=%ZZ%&transaction[uuid=1")]
    [InlineData("application/x-www-form-urlencoded", "transaction%5Buuid%5D=%FF%FE&transaction%5Binvoice%5D%5BpaymentRequestId%5D=1")]
    [InlineData("text/html", "<html>hello</html>")]
    public void Garbage_and_incomplete_bodies_give_null(string contentType, string body) =>
        Assert.Null(Parse(contentType, body));

    [Fact]
    public async Task Random_bytes_never_throw()
    {
        var random = new Random(42);
        using var provider = PayrexxTestHost.Provider("http://127.0.0.1:9/");
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            var type = (i % 3) switch { 0 => "application/json", 1 => "application/x-www-form-urlencoded", _ => null };
            var hint = await provider.ParseWebhookAsync(new PaymentWebhookRequest(type, bytes, new Dictionary<string, string>()));
            Assert.Null(hint);
        }
    }
}
