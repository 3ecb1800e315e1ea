using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace OpenMavn.Notifications.StandIn;

/// <summary>
/// The plumbing both stand-ins share: Kestrel on 127.0.0.1 with a free port, the request log, the
/// <c>Down</c> switch and the queue of injected failures. A stand-in passes the handler that enforces its
/// contract; it is only called for a request that no failure took.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly object _gate;
    private readonly List<Entry> _requests = [];
    private readonly List<(string? PathPrefix, Func<HttpContext, Task> Respond)> _failures = [];
    private readonly Func<HttpContext, Task> _unavailable;
    private bool _down;

    private LoopbackServer(WebApplication app, object gate, Func<HttpContext, Task> unavailable)
    {
        _app = app;
        _gate = gate;
        _unavailable = unavailable;
        BaseUrl = new Uri("http://127.0.0.1/");
    }

    public Uri BaseUrl { get; private set; }

    public bool Down
    {
        get { lock (_gate) { return _down; } }
        set { lock (_gate) { _down = value; } }
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get { lock (_gate) { return [.. _requests.Select(e => e.ToRecord())]; } }
    }

    /// <summary>Starts Kestrel; <paramref name="handle"/> gets the context and the body read as UTF-8.</summary>
    public static async Task<LoopbackServer> StartAsync(
        object gate,
        Func<HttpContext, string, Task> handle,
        Func<HttpContext, Task> unavailable,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        // A FailNextWith delay must not hold DisposeAsync for the default 30 s.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var server = new LoopbackServer(app, gate, unavailable);
        app.Run(context => server.HandleAsync(context, handle));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Queues a failure for the next request whose path starts with <paramref name="pathPrefix"/> (any request when null).</summary>
    public void Enqueue(string? pathPrefix, Func<HttpContext, Task> respond)
    {
        ArgumentNullException.ThrowIfNull(respond);
        lock (_gate)
        {
            _failures.Add((pathPrefix, respond));
        }
    }

    /// <summary>A <c>Retry-After</c> value: whole seconds, rounded up.</summary>
    public static string RetryAfter(TimeSpan delay) =>
        ((long)Math.Ceiling(Math.Max(0, delay.TotalSeconds))).ToString(CultureInfo.InvariantCulture);

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, Func<HttpContext, string, Task> handle)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var entry = new Entry(
            request.Method,
            context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body);
        // The status is taken when the response starts, before the client can see it, so a test that reads
        // Requests right after its call returned always finds it. Kestrel still starts the response of a
        // dropped connection when the handler returns (and cancels RequestAborted only later, on the thread
        // pool), so context.Abort() is watched directly: nothing reaches the client then, and it stays null.
        var lifetime = new AbortWatch(context.Features.GetRequiredFeature<IHttpRequestLifetimeFeature>());
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        context.Response.OnStarting(() =>
        {
            lock (_gate)
            {
                entry.StatusCode = lifetime.Aborted || context.RequestAborted.IsCancellationRequested ? null : context.Response.StatusCode;
            }

            return Task.CompletedTask;
        });

        Func<HttpContext, Task>? failure = null;
        bool down;
        lock (_gate)
        {
            _requests.Add(entry);
            down = _down;
            if (!down)
            {
                var path = request.Path.Value ?? "/";
                var index = _failures.FindIndex(f => f.PathPrefix is null || path.StartsWith(f.PathPrefix, StringComparison.Ordinal));
                if (index >= 0)
                {
                    failure = _failures[index].Respond;
                    _failures.RemoveAt(index);
                }
            }
        }

        if (down)
        {
            await _unavailable(context);
        }
        else if (failure is not null)
        {
            await failure(context);
        }
        else
        {
            await handle(context, body);
        }
    }

    private sealed class AbortWatch(IHttpRequestLifetimeFeature inner) : IHttpRequestLifetimeFeature
    {
        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted
        {
            get => inner.RequestAborted;
            set => inner.RequestAborted = value;
        }

        public void Abort()
        {
            Aborted = true;
            inner.Abort();
        }
    }

    private sealed class Entry(string method, string pathAndQuery, IReadOnlyDictionary<string, string> headers, string body)
    {
        public int? StatusCode { get; set; }

        public RecordedRequest ToRecord() => new(method, pathAndQuery, headers, body, StatusCode);
    }
}
