using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Storage.SqlServer.Tests;

/// <summary>
/// No SQL Server runs on this project's CI machines: these tests check, without a server, that the compiled SQL Server
/// migrations match the current model and produce the full schema script.
/// </summary>
public sealed class SqlServerMigrationTests
{
    private static OpenMavnDbContext CreateContext()
    {
        var services = new ServiceCollection();
        services.AddOpenMavn(new ConfigurationBuilder().Build())
            .AddSqlServerStorage("Server=127.0.0.1,1;Database=OpenMavn;User Id=sa;Password=unused;TrustServerCertificate=True");
        return services.BuildServiceProvider().CreateScope().ServiceProvider.GetRequiredService<OpenMavnDbContext>();
    }

    [Fact]
    public void The_SQL_Server_migrations_match_the_current_model()
    {
        using var db = CreateContext();
        Assert.True(db.Database.IsSqlServer());
        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a SQL Server migration: run dotnet ef migrations add in src/OpenMavn.Storage.SqlServer.");
    }

    [Fact]
    public void The_idempotent_script_creates_every_table_with_native_instants_and_the_stock_guard()
    {
        using var db = CreateContext();
        var script = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
        foreach (var table in new[] { "Merchants", "Campaigns", "Orders", "Vouchers", "VoucherActivities", "Redemptions", "Gifts", "ExchangeOffers", "Refunds", "JournalEntries", "JournalLines", "OutboxMessages", "LedgerRecords", "DataProtectionKeys" })
        {
            Assert.Contains($"CREATE TABLE [{table}]", script, StringComparison.Ordinal);
        }

        Assert.Contains("[ExpiresAt] datetimeoffset NOT NULL", script, StringComparison.Ordinal);
        Assert.Contains("CK_Campaigns_Stock", script, StringComparison.Ordinal);
        Assert.Contains("CREATE UNIQUE INDEX [IX_Vouchers_Code]", script, StringComparison.Ordinal);
    }
}
