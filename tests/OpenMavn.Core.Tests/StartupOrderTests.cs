using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Tests;

/// <summary>A host starts its hosted services in registration order: the database must be migrated first.</summary>
public sealed class StartupOrderTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "openmavn-tests", "startup-" + Guid.NewGuid().ToString("N"));

    public StartupOrderTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public void The_database_initializer_is_the_first_hosted_service_whatever_was_registered_before()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IHostEnvironment>(new Environment());
        services.AddOpenMavn(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())
            .AddSqliteStorage($"Data Source={Path.Combine(_directory, "openmavn.db")}")
            .AddSandboxPayments();

        using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        Assert.IsType<DatabaseInitializer>(hosted[0]);
        Assert.True(hosted.Count > 1);
    }

    [Fact]
    public async Task A_first_start_on_a_fresh_file_with_jobs_on_logs_no_error()
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<IHostEnvironment>(new Environment());
        services.AddOpenMavn(o => o.Outbox.PollInterval = TimeSpan.FromMilliseconds(20))
            .AddSqliteStorage($"Data Source={Path.Combine(_directory, "openmavn.db")}")
            .AddSandboxPayments();

        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();

        // What Host.StartAsync does: each hosted service in turn.
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        await Task.Delay(300);
        foreach (var service in Enumerable.Reverse(hosted))
        {
            await service.StopAsync(CancellationToken.None);
        }

        Assert.DoesNotContain(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("Applying migration", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";

        public string ApplicationName { get; set; } = "OpenMavn.Core.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
