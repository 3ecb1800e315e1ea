using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace OpenMavn.Payments.Payrexx.Tests;

/// <summary>What the client sent, as it came over the wire.</summary>
internal sealed record RecordedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>A scripted answer.</summary>
internal sealed record ScriptedAnswer(int StatusCode, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan? Delay = null);

/// <summary>
/// A tiny Kestrel server on 127.0.0.1 that records every request and plays scripted answers in order (a 500 error
/// envelope when the script is exhausted). It checks nothing itself: the tests assert on the recording.
/// </summary>
internal sealed class RecordingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ScriptedAnswer> _script = new();

    private RecordingServer(WebApplication app) => _app = app;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public string BaseUrl { get; private set; } = "";

    public static async Task<RecordingServer> StartAsync(params ScriptedAnswer[] answers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new RecordingServer(app);
        foreach (var answer in answers)
        {
            server._script.Enqueue(answer);
        }

        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        Requests.Enqueue(new RecordedRequest(context.Request.Method, context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget, headers, body));
        var answer = _script.TryDequeue(out var next) ? next : new ScriptedAnswer(500, """{"status":"error","message":"script exhausted"}""");
        if (answer.Delay is { } delay)
        {
            await Task.Delay(delay, context.RequestAborted);
        }

        context.Response.StatusCode = answer.StatusCode;
        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal static class PayrexxTestHost
{
    public static PayrexxPaymentProvider Provider(string baseUrl, Action<PayrexxOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new PayrexxOptions { BaseUrl = baseUrl, AllowTestPayments = false };
        configure?.Invoke(options);
        var monitor = new FixedOptions(options);
        time ??= TimeProvider.System;
        var client = new PayrexxClient(monitor, time, NullLogger<PayrexxClient>.Instance)
        {
            GetRetryDelays = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20)],
        };
        return new PayrexxPaymentProvider(monitor, time, NullLoggerFactory.Instance, client);
    }

    private sealed class FixedOptions(PayrexxOptions value) : IOptionsMonitor<PayrexxOptions>
    {
        public PayrexxOptions CurrentValue => value;

        public PayrexxOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<PayrexxOptions, string?> listener) => null;
    }
}
