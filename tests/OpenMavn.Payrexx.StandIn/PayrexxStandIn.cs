using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace OpenMavn.Payrexx.StandIn;

/// <summary>
/// A local stand-in for the Payrexx REST API (http://127.0.0.1 on a free port) that enforces the contract written
/// down in payrexx-api.md: URL shape and version, <c>instance</c>, both authentication schemes, the envelope, the
/// gateway and transaction resources with refunds. Tests drive the "shopper" and Payrexx's back office through the
/// plain C# control methods (<see cref="Pay"/>, <see cref="Decline"/>, <see cref="FailNext"/>, …) and read what the
/// client sent from <see cref="Requests"/>.
/// </summary>
public sealed class PayrexxStandIn : IAsyncDisposable
{
    /// <summary>The lowest API version served; older versions answer 404 (before 1.15 failures were HTTP 200).</summary>
    public static readonly Version MinimumVersion = new(1, 15);

    private const string Json = "application/json; charset=utf-8";
    private const string Form = "application/x-www-form-urlencoded";

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, string> _instances = new(StringComparer.Ordinal);
    private readonly List<Gateway> _gateways = [];
    private readonly Dictionary<int, Transaction> _transactions = [];
    private readonly Queue<Func<HttpContext, Task>> _failures = new();
    private readonly List<RecordedRequest> _requests = [];
    private int _nextTransactionId = 1001;
    private bool _refundsArePending;

    private PayrexxStandIn(WebApplication app)
    {
        _app = app;
        BaseUrl = new Uri("http://127.0.0.1/");
    }

    /// <summary>Where the stand-in listens, with a trailing slash (e.g. <c>http://127.0.0.1:54321/</c>).</summary>
    public Uri BaseUrl { get; private set; }

    /// <summary>When true, refunds end in <c>refund_pending</c> instead of <c>refunded</c>/<c>partially-refunded</c>.</summary>
    public bool RefundsArePending
    {
        get { lock (_gate) { return _refundsArePending; } }
        set { lock (_gate) { _refundsArePending = value; } }
    }

    /// <summary>Every request received so far, oldest first (a copy).</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get { lock (_gate) { return [.. _requests]; } }
    }

    /// <summary>Every gateway created so far, deleted ones included, oldest first.</summary>
    public IReadOnlyList<GatewaySnapshot> Gateways
    {
        get { lock (_gate) { return [.. _gateways.Select(Snapshot)]; } }
    }

    /// <summary>Starts a stand-in on http://127.0.0.1 with a free port.</summary>
    public static async Task<PayrexxStandIn> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        // A FailNextWith delay must not hold DisposeAsync for the default 30 s.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var standIn = new PayrexxStandIn(app);
        app.Run(standIn.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        standIn.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return standIn;
    }

    /// <summary>Adds (or replaces) a merchant instance (the Payrexx sub-domain) and its API secret.</summary>
    public void AddInstance(string name, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        lock (_gate)
        {
            _instances[name] = secret;
        }
    }

    /// <summary>Forgets the recorded requests.</summary>
    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    /// <summary>The next request (whatever it is) is answered with <paramref name="statusCode"/> and an error envelope. Calls queue up.</summary>
    public void FailNext(int statusCode) => FailNextWith(async context =>
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = Json;
        await context.Response.WriteAsync(Error("Injected failure.", $"stand-in failure {statusCode}").ToJsonString(), context.RequestAborted);
    });

    /// <summary>
    /// The next request (whatever it is) is answered by <paramref name="respond"/>: malformed JSON, a delay
    /// (honour <c>context.RequestAborted</c>), a dropped connection (<c>context.Abort()</c>). Calls queue up.
    /// </summary>
    public void FailNextWith(Func<HttpContext, Task> respond)
    {
        ArgumentNullException.ThrowIfNull(respond);
        lock (_gate)
        {
            _failures.Enqueue(respond);
        }
    }

    /// <summary>The shopper pays: a new transaction goes <c>waiting</c> then <c>confirmed</c>, and so does the gateway.</summary>
    public TransactionSnapshot Pay(int gatewayId, bool test = false)
    {
        lock (_gate)
        {
            var gateway = FindForControl(gatewayId);
            if (gateway.Status == "confirmed")
            {
                throw new InvalidOperationException($"Gateway {gatewayId} is already paid.");
            }

            var transaction = NewTransaction(gateway, test, "waiting");
            transaction.MoveTo("confirmed");
            gateway.Status = "confirmed";
            return Snapshot(transaction);
        }
    }

    /// <summary>The shopper's payment is declined: a new transaction goes <c>waiting</c> then <c>declined</c>, and the gateway becomes <c>declined</c>.</summary>
    public TransactionSnapshot Decline(int gatewayId, bool test = false)
    {
        lock (_gate)
        {
            var gateway = FindForControl(gatewayId);
            var transaction = NewTransaction(gateway, test, "waiting");
            transaction.MoveTo("declined");
            gateway.Status = "declined";
            return Snapshot(transaction);
        }
    }

    /// <summary>Sets the gateway's status and, when it has one, its latest transaction's status (any string: unknown ones test lenient parsing).</summary>
    public void SetStatus(int gatewayId, string status)
    {
        ArgumentException.ThrowIfNullOrEmpty(status);
        lock (_gate)
        {
            var gateway = FindForControl(gatewayId);
            gateway.Status = status;
            gateway.Transactions.LastOrDefault()?.MoveTo(status);
        }
    }

    /// <summary>
    /// Changes what Payrexx reports about a gateway from now on (in API answers and built webhooks) so that it no
    /// longer matches what the shop stored: the amount (of the gateway and its transactions), currency or referenceId.
    /// </summary>
    public void Tamper(int gatewayId, long? amount = null, string? currency = null, string? referenceId = null)
    {
        lock (_gate)
        {
            var gateway = FindForControl(gatewayId);
            if (amount is { } newAmount)
            {
                gateway.Amount = newAmount;
                foreach (var transaction in gateway.Transactions)
                {
                    transaction.Amount = newAmount;
                }
            }

            gateway.Currency = currency ?? gateway.Currency;
            gateway.ReferenceId = referenceId ?? gateway.ReferenceId;
        }
    }

    /// <summary>The gateway with this id (deleted ones included).</summary>
    public GatewaySnapshot GetGateway(int gatewayId)
    {
        lock (_gate)
        {
            return Snapshot(FindForControl(gatewayId, allowDeleted: true));
        }
    }

    /// <summary>The transaction with this id.</summary>
    public TransactionSnapshot GetTransaction(int transactionId)
    {
        lock (_gate)
        {
            return _transactions.TryGetValue(transactionId, out var transaction)
                ? Snapshot(transaction)
                : throw new KeyNotFoundException($"No transaction {transactionId}.");
        }
    }

    /// <summary>
    /// The webhook Payrexx would POST to a shop about the gateway's latest transaction, reporting
    /// <paramref name="status"/>: JSON <c>{"transaction":{…}}</c>, or PHP-style form fields
    /// (<c>transaction[invoice][referenceId]=…</c>) when <paramref name="asForm"/>.
    /// </summary>
    public PayrexxWebhook BuildWebhook(int gatewayId, string status, bool asForm = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(status);
        JsonObject body;
        lock (_gate)
        {
            var gateway = FindForControl(gatewayId, allowDeleted: true);
            var transaction = gateway.Transactions.LastOrDefault()
                ?? throw new InvalidOperationException($"Gateway {gatewayId} has no transaction yet: call Pay or Decline first.");
            var json = TransactionJson(transaction);
            json["status"] = status;
            body = new JsonObject { ["transaction"] = json };
        }

        return asForm
            ? new PayrexxWebhook(Form, PhpQuery.Build(ToPhpArray(body)))
            : new PayrexxWebhook("application/json", body.ToJsonString());
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // ---- HTTP ----

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        Func<HttpContext, Task>? failure = null;
        lock (_gate)
        {
            _requests.Add(new RecordedRequest(request.Method, rawTarget, headers, body));
            if (_failures.Count > 0)
            {
                failure = _failures.Dequeue();
            }
        }

        if (failure is not null)
        {
            await failure(context);
            return;
        }

        var question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawQuery = question < 0 ? null : rawTarget[(question + 1)..];
        var (status, reply) = Answer(request, rawQuery, body);
        context.Response.StatusCode = status;
        if (reply is JsonObject json)
        {
            context.Response.ContentType = Json;
            await context.Response.WriteAsync(json.ToJsonString(), context.RequestAborted);
        }
        else
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync((string)reply, context.RequestAborted);
        }
    }

    private (int Status, object Reply) Answer(HttpRequest request, string? rawQuery, string body)
    {
        var segments = (request.Path.Value ?? "/").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is ["pay", var page] && request.Method == HttpMethods.Get)
        {
            return (200, $"<!doctype html><title>Payrexx stand-in</title><p>Payment page of gateway {WebUtility.HtmlEncode(page)}.</p>");
        }

        if (segments.Length is < 2 or > 4 || !segments[0].StartsWith('v') || !Version.TryParse(segments[0][1..], out var version))
        {
            return (404, Error("Unknown resource.", "The path is not /v{version}/{Model}/{id}/{action}."));
        }

        if (version < MinimumVersion)
        {
            return (404, Error($"API version {version} is not served.", $"This stand-in serves version {MinimumVersion} and later."));
        }

        var query = PhpQuery.ParsePairs(rawQuery);
        var instance = query.LastOrDefault(p => p.Key == "instance").Value;
        if (string.IsNullOrEmpty(instance))
        {
            return (422, Error("The instance parameter is missing.", "instance is required in the query string."));
        }

        var isGet = request.Method == HttpMethods.Get;
        var isForm = request.ContentType?.StartsWith(Form, StringComparison.OrdinalIgnoreCase) == true;
        // GET carries its parameters in the query; POST/PUT/DELETE in a form body (the query holds only instance).
        var sent = isGet ? query.Where(p => p.Key != "instance").ToList() : (isForm ? PhpQuery.ParsePairs(body).ToList() : []);
        var extraQuery = !isGet && query.Any(p => p.Key != "instance");
        var parameters = sent.Where(p => p.Key != "ApiSignature" && p.Key != "instance").ToList();

        lock (_gate)
        {
            if (!_instances.TryGetValue(instance, out var secret))
            {
                return (422, Error($"Unknown instance '{instance}'.", "No such instance."));
            }

            if (!Authenticated(request, secret, sent, parameters, out var why))
            {
                return (403, Error("The API secret is not correct.", why));
            }

            if (extraQuery)
            {
                return (422, Error("Parameters belong in the form body.", $"{request.Method} sends its parameters as {Form}; the query holds only instance."));
            }

            if (!isGet && body.Length > 0 && !isForm)
            {
                return (422, Error("Unsupported body.", $"{request.Method} sends its parameters as {Form}."));
            }

            int? id = null;
            if (segments.Length >= 3)
            {
                if (!int.TryParse(segments[2], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                {
                    return NotFound($"No {segments[1]} '{segments[2]}'.");
                }

                id = parsed;
            }

            var action = segments.Length == 4 ? segments[3] : null;
            return (segments[1], request.Method, id, action) switch
            {
                ("SignatureCheck", "GET", null, null) => Success(new JsonObject { ["id"] = 1 }),
                ("Gateway", "POST", null, null) => CreateGateway(instance, parameters),
                ("Gateway", "GET", int gatewayId, null) => ReadGateway(instance, gatewayId),
                ("Gateway", "DELETE", int gatewayId, null) => DeleteGateway(instance, gatewayId),
                ("Transaction", "GET", int transactionId, null) => ReadTransaction(instance, transactionId),
                ("Transaction", "POST", int transactionId, "refund") => Refund(instance, transactionId, PhpQuery.Parse(parameters)),
                ("SignatureCheck" or "Gateway" or "Transaction", _, _, _) => NotFound($"{request.Method} {request.Path} is not a {segments[1]} operation."),
                _ => NotFound($"Unknown model '{segments[1]}'."),
            };
        }
    }

    private static bool Authenticated(HttpRequest request, string secret, List<KeyValuePair<string, string>> sent, List<KeyValuePair<string, string>> parameters, out string why)
    {
        if (request.Headers.TryGetValue("X-API-KEY", out var key))
        {
            why = "X-API-KEY does not match the instance's API secret.";
            return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key.ToString()), Encoding.UTF8.GetBytes(secret));
        }

        var signature = sent.LastOrDefault(p => p.Key == "ApiSignature").Value;
        if (signature is null)
        {
            why = "Neither X-API-KEY nor ApiSignature was sent.";
            return false;
        }

        var signed = PhpQuery.Rebuild(parameters);
        why = $"ApiSignature does not sign '{signed}' with the instance's API secret.";
        return PayrexxSignature.Verify(secret, signed, signature);
    }

    private (int, object) CreateGateway(string instance, List<KeyValuePair<string, string>> parameters)
    {
        var values = PhpQuery.Parse(parameters);
        if (!TryPositive(values.GetString("amount"), out var amount))
        {
            return (422, Error("amount is required: a positive integer in the smallest currency unit.", "Invalid amount."));
        }

        var currency = values.GetString("currency");
        if (currency is not { Length: 3 } || !currency.All(char.IsAsciiLetter))
        {
            return (422, Error("currency is required: an ISO 4217 code.", "Invalid currency."));
        }

        if (values.GetString("validity") is { } validity && !int.TryParse(validity, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return (422, Error("validity must be a whole number of minutes.", "Invalid validity."));
        }

        var gateway = new Gateway(_gateways.Count + 1, instance, amount, currency.ToUpperInvariant(), values, parameters)
        {
            ReferenceId = values.GetString("referenceId"),
            Hash = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        };
        _gateways.Add(gateway);
        return Success(GatewayJson(gateway));
    }

    private (int, object) ReadGateway(string instance, int id) =>
        Find(instance, id) is { } gateway ? Success(GatewayJson(gateway)) : NotFound($"No gateway {id}.");

    private (int, object) DeleteGateway(string instance, int id)
    {
        if (Find(instance, id) is not { } gateway)
        {
            return NotFound($"No gateway {id}.");
        }

        gateway.Deleted = true;
        return Success(new JsonObject { ["id"] = id });
    }

    private (int, object) ReadTransaction(string instance, int id) =>
        _transactions.TryGetValue(id, out var transaction) && transaction.Gateway.Instance == instance
            ? Success(TransactionJson(transaction))
            : NotFound($"No transaction {id}.");

    private (int, object) Refund(string instance, int id, PhpArray values)
    {
        if (!_transactions.TryGetValue(id, out var transaction) || transaction.Gateway.Instance != instance)
        {
            return NotFound($"No transaction {id}.");
        }

        var remaining = transaction.Amount - transaction.Refunded;
        if (transaction.Status is not ("confirmed" or "partially-refunded" or "refund_pending") || remaining <= 0)
        {
            return (422, Error($"Transaction {id} cannot be refunded in status {transaction.Status}.", "Not refundable."));
        }

        var amount = remaining;
        if (values.GetString("amount") is { } requested && (!TryPositive(requested, out amount) || amount > remaining))
        {
            return (422, Error($"amount must be a positive integer of at most {remaining}.", "Invalid refund amount."));
        }

        transaction.Refunded += amount;
        transaction.MoveTo(_refundsArePending ? "refund_pending" : transaction.Refunded == transaction.Amount ? "refunded" : "partially-refunded");
        return Success(TransactionJson(transaction));
    }

    // ---- state ----

    private Gateway? Find(string instance, int id) =>
        id >= 1 && id <= _gateways.Count && _gateways[id - 1] is { Deleted: false } gateway && gateway.Instance == instance ? gateway : null;

    private Gateway FindForControl(int id, bool allowDeleted = false)
    {
        if (id < 1 || id > _gateways.Count)
        {
            throw new KeyNotFoundException($"No gateway {id}.");
        }

        var gateway = _gateways[id - 1];
        return gateway.Deleted && !allowDeleted ? throw new InvalidOperationException($"Gateway {id} was deleted.") : gateway;
    }

    private Transaction NewTransaction(Gateway gateway, bool test, string status)
    {
        var transaction = new Transaction(_nextTransactionId++, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), gateway, gateway.Amount, test);
        transaction.MoveTo(status);
        gateway.Transactions.Add(transaction);
        _transactions.Add(transaction.Id, transaction);
        return transaction;
    }

    private static bool TryPositive(string? text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;

    private static GatewaySnapshot Snapshot(Gateway g) =>
        new(g.Id, g.Instance, g.Status, g.Amount, g.Currency, g.ReferenceId, g.Values.GetString("purpose"), g.Deleted, g.Parameters, [.. g.Transactions.Select(Snapshot)]);

    private static TransactionSnapshot Snapshot(Transaction t) =>
        new(t.Id, t.Uuid, t.Gateway.Id, t.Status, t.Amount, t.Refunded, t.Test, [.. t.History]);

    // ---- JSON ----

    private static (int, object) Success(JsonObject item) =>
        (200, new JsonObject { ["status"] = "success", ["data"] = new JsonArray(item) });

    private static (int, object) NotFound(string message) => (404, Error(message, "Not found."));

    private static JsonObject Error(string message, string reason) =>
        new() { ["status"] = "error", ["message"] = message, ["reason"] = reason };

    private JsonObject GatewayJson(Gateway gateway)
    {
        var json = new JsonObject
        {
            ["id"] = gateway.Id,
            ["status"] = gateway.Status,
            ["hash"] = gateway.Hash,
            ["referenceId"] = gateway.ReferenceId,
            ["link"] = new Uri(BaseUrl, $"pay/{gateway.Id}").ToString(),
            ["invoices"] = gateway.Transactions.Count == 0 ? new JsonArray() : new JsonArray(InvoiceJson(gateway, withTransactions: true)),
            ["amount"] = gateway.Amount,
            ["currency"] = gateway.Currency,
            ["purpose"] = gateway.Values.GetString("purpose"),
            ["successRedirectUrl"] = gateway.Values.GetString("successRedirectUrl"),
            ["failedRedirectUrl"] = gateway.Values.GetString("failedRedirectUrl"),
            ["cancelRedirectUrl"] = gateway.Values.GetString("cancelRedirectUrl"),
            ["skipResultPage"] = gateway.Values.GetString("skipResultPage") is "1" or "true",
            ["validity"] = gateway.Values.GetString("validity") is { } validity ? int.Parse(validity, CultureInfo.InvariantCulture) : null,
            ["pm"] = new JsonArray([.. (gateway.Values.GetArray("pm")?.Entries ?? []).Select(e => JsonValue.Create(e.Value as string))]),
            ["fields"] = gateway.Values.GetArray("fields") is { } fields ? ToJson(fields) : new JsonObject(),
        };
        return json;
    }

    private static JsonObject InvoiceJson(Gateway gateway, bool withTransactions)
    {
        var invoice = new JsonObject
        {
            ["referenceId"] = gateway.ReferenceId,
            ["paymentRequestId"] = gateway.Id,
            ["currency"] = gateway.Currency,
            ["test"] = gateway.Transactions.LastOrDefault()?.Test == true ? 1 : 0,
            ["originalAmount"] = gateway.Amount,
            ["refundedAmount"] = gateway.Transactions.Sum(t => t.Refunded),
        };
        if (withTransactions)
        {
            invoice["transactions"] = new JsonArray([.. gateway.Transactions.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id,
                ["uuid"] = t.Uuid,
                ["status"] = t.Status,
                ["amount"] = t.Amount,
                ["referenceId"] = gateway.ReferenceId,
            })]);
        }

        return invoice;
    }

    private static JsonObject TransactionJson(Transaction transaction) => new()
    {
        ["id"] = transaction.Id,
        ["uuid"] = transaction.Uuid,
        ["status"] = transaction.Status,
        ["amount"] = transaction.Amount,
        ["referenceId"] = transaction.Gateway.ReferenceId,
        ["invoice"] = InvoiceJson(transaction.Gateway, withTransactions: false),
    };

    private static JsonObject ToJson(PhpArray array)
    {
        var json = new JsonObject();
        foreach (var (key, value) in array.Entries)
        {
            json[key] = value is PhpArray child ? ToJson(child) : JsonValue.Create((string)value);
        }

        return json;
    }

    private static PhpArray ToPhpArray(JsonObject json)
    {
        var array = new PhpArray();
        foreach (var (key, value) in json)
        {
            switch (value)
            {
                case null:
                    break;
                case JsonObject child:
                    array.Set(key, ToPhpArray(child));
                    break;
                case JsonValue leaf when leaf.TryGetValue<bool>(out var flag):
                    array.Set(key, flag ? "1" : "0");
                    break;
                default:
                    array.Set(key, value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString());
                    break;
            }
        }

        return array;
    }

    private sealed class Gateway(int id, string instance, long amount, string currency, PhpArray values, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        public int Id { get; } = id;
        public string Instance { get; } = instance;
        public long Amount { get; set; } = amount;
        public string Currency { get; set; } = currency;
        public string? ReferenceId { get; set; }
        public string Hash { get; init; } = "";
        public string Status { get; set; } = "waiting";
        public bool Deleted { get; set; }
        public PhpArray Values { get; } = values;
        public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; } = parameters;
        public List<Transaction> Transactions { get; } = [];
    }

    private sealed class Transaction(int id, string uuid, Gateway gateway, long amount, bool test)
    {
        public int Id { get; } = id;
        public string Uuid { get; } = uuid;
        public Gateway Gateway { get; } = gateway;
        public long Amount { get; set; } = amount;
        public bool Test { get; } = test;
        public long Refunded { get; set; }
        public string Status { get; private set; } = "";
        public List<string> History { get; } = [];

        public void MoveTo(string status)
        {
            Status = status;
            History.Add(status);
        }
    }
}
