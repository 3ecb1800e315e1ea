using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OpenMavn.Bench.Load;

/// <summary>The scenarios and the cold-start probes.</summary>
internal static class Scenarios
{
    public const string FloorWrite = "POST /write (floor)";
    public const string PurchaseCycle = "purchase → paid → issued";
    public const string PlaceOrder = "  place order";
    public const string Confirm = "  sandbox confirm (issues vouchers)";
    public const string RedeemOperation = "redeem (API key)";

    private static long s_nextVoucher = -1;

    /// <summary>The last unexpected answer (status and body), for the report.</summary>
    public static string? LastError { get; private set; }

    /// <summary>The floor: POST /write, one SQLite write transaction.</summary>
    public static Scenario Floor(HttpClient http, Uri floor) => new(FloorWrite, async (_, recorder) =>
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync(new Uri(floor, "write"), null);
        await response.Content.ReadAsByteArrayAsync();
        recorder.Record(FloorWrite, start, Check(response, HttpStatusCode.OK));
    });

    /// <summary>
    /// Purchase: client i, as customer i, places an order for one voucher (with an Idempotency-Key) and pays it on the
    /// sandbox page; counted when the confirm answers VouchersIssued.
    /// </summary>
    public static Scenario Purchase(Api api, World world) => new(PurchaseCycle, async (client, recorder) =>
    {
        var token = world.CustomerTokens[client];
        var cycle = Stopwatch.GetTimestamp();
        using var place = api.Request(HttpMethod.Post, "api/customer/orders", token, new { campaignId = world.CampaignId, quantity = 1 });
        place.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var placed = await api.Http.SendAsync(place);
        var body = await placed.Content.ReadAsByteArrayAsync();
        var ok = Check(placed, HttpStatusCode.Created, body);
        recorder.Record(PlaceOrder, cycle, ok);
        if (!ok)
        {
            recorder.Record(PurchaseCycle, cycle, ok: false);
            return;
        }

        var order = JsonDocument.Parse(body).RootElement;
        var paymentId = new Uri(order.GetProperty("checkoutUrl").GetString()!).Segments[^1];
        var start = Stopwatch.GetTimestamp();
        using var confirmed = await api.Http.PostAsync(new Uri(api.BaseAddress, $"sandbox/checkout/{paymentId}/confirm"), null);
        body = await confirmed.Content.ReadAsByteArrayAsync();
        ok = Check(confirmed, HttpStatusCode.OK, body);
        recorder.Record(Confirm, start, ok);
        var issued = ok && JsonDocument.Parse(body).RootElement.GetProperty("outcome").GetString() == "VouchersIssued";
        if (ok && !issued)
        {
            LastError = $"confirm answered {System.Text.Encoding.UTF8.GetString(body)}";
        }

        recorder.Record(PurchaseCycle, cycle, issued);
        if (issued)
        {
            world.LastOrders[client] = order.GetProperty("id").GetGuid();
        }
    });

    /// <summary>
    /// Redeem: the till's API key redeems 1 cent of the next voucher bought in setup (round-robin over all of them),
    /// with an Idempotency-Key, on /api/integration/redemptions.
    /// </summary>
    public static Scenario Redeem(Api api, World world) => new(RedeemOperation, async (_, recorder) =>
    {
        var code = world.RedeemCodes[(int)(Interlocked.Increment(ref s_nextVoucher) % world.RedeemCodes.Count)];
        var start = Stopwatch.GetTimestamp();
        using var request = api.Request(HttpMethod.Post, "api/integration/redemptions", null, new { code, amount = 1 });
        request.Headers.Add("X-Api-Key", world.ApiKey);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await api.Http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        recorder.Record(RedeemOperation, start, Check(response, HttpStatusCode.OK, body));
    });

    /// <summary>The host's first real request: an authenticated API call that reads the database (the till's campaigns).</summary>
    public static async Task<bool> ColdProbeHostAsync(Uri host, World world)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host, "api/integration/campaigns"));
        request.Headers.Add("X-Api-Key", world.ApiKey);
        try
        {
            using var response = await http.SendAsync(request);
            return response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength() > 0;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The floor's first real request: POST /write.</summary>
    public static async Task<bool> ColdProbeFloorAsync(Uri floor)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var response = await http.PostAsync(new Uri(floor, "write"), null);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static bool Check(HttpResponseMessage response, HttpStatusCode expected, byte[]? body = null)
    {
        if (response.StatusCode == expected)
        {
            return true;
        }

        LastError = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: {(int)response.StatusCode} {(body is null ? "" : System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300))))}";
        return false;
    }
}
