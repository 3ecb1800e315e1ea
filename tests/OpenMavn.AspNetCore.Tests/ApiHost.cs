using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpenMavn.AspNetCore.Tests;

/// <summary>
/// A real OpenMavn host on Kestrel at 127.0.0.1 (free port) over a fresh SQLite file, with the sandbox payment
/// provider, the APIs, and a configured operator. Jobs are off: tests run what they need. <c>openMavn</c> adds
/// providers (another ledger) to the OpenMavn builder.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    public const string AdminEmail = "ops@openmavn.test";
    public const string AdminPassword = "operator-password-1";
    public const string Password = "customer-password-1";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string _directory;

    private ApiHost(WebApplication app, Uri address, string directory)
    {
        App = app;
        Address = address;
        _directory = directory;
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<ApiHost> StartAsync(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, Action<IOpenMavnBuilder>? openMavn = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development", ContentRootPath = directory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var config = new Dictionary<string, string?>
        {
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "openmavn.db")}",
            ["OpenMavn:Jobs:Enabled"] = "false",
            ["OpenMavn:Api:AdminEmail"] = AdminEmail,
            ["OpenMavn:Api:AdminPassword"] = AdminPassword,
            ["OpenMavn:Api:SignInPermitsPerMinute"] = "1000",
            ["OpenMavn:Api:CodeLookupsPerMinutePerUser"] = "1000",
            ["OpenMavn:Api:CodeLookupsPerMinutePerIp"] = "1000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(config);
        var openMavnBuilder = builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn"))
            .AddSqliteStorage()
            .AddSandboxPayments()
            .AddOpenMavnApis();
        openMavn?.Invoke(openMavnBuilder);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapOpenMavnApis();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ApiHost(app, new Uri(address), directory);
    }

    /// <summary>An anonymous client.</summary>
    public HttpClient Client() => new() { BaseAddress = Address };

    /// <summary>Signs up (register + login) and returns a client carrying the bearer token.</summary>
    public async Task<(HttpClient Client, Guid UserId)> SignUpAsync(string? email = null, string password = Password)
    {
        email ??= $"u{Guid.NewGuid():N}@example.ch";
        using var anonymous = Client();
        var registered = await anonymous.PostAsJsonAsync("/api/auth/register", new { email, password });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        return await SignInAsync(email, password);
    }

    /// <summary>Signs in and returns a client carrying the bearer token, plus the user id.</summary>
    public async Task<(HttpClient Client, Guid UserId)> SignInAsync(string email, string password)
    {
        using var anonymous = Client();
        var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { email, password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        var client = Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me");
        return (client, me.GetProperty("id").GetGuid());
    }

    /// <summary>A client signed in as the configured operator.</summary>
    public async Task<HttpClient> AdminAsync() => (await SignInAsync(AdminEmail, AdminPassword)).Client;

    /// <summary>Signs up a customer and creates the customer profile.</summary>
    public async Task<(HttpClient Client, Guid UserId)> CustomerAsync(string language = "en")
    {
        var (client, id) = await SignUpAsync();
        var profile = await client.PutAsJsonAsync("/api/customer/profile", new { displayName = "Test Customer", language });
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        return (client, id);
    }

    /// <summary>POSTs JSON with an Idempotency-Key header.</summary>
    public static Task<HttpResponseMessage> PostIdempotentAsync(HttpClient client, string url, object? body, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body, options: Json) };
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString());
        return client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
