using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Persistence;

namespace OpenMavn;

/// <summary>SQL Server storage for OpenMavn.</summary>
public static class SqlServerStorageExtensions
{
    /// <summary>
    /// Stores OpenMavn in SQL Server. The connection string comes from the argument, else
    /// <c>OpenMavn:Storage:ConnectionString</c>. Migrations from this package are applied at start-up unless
    /// <c>OpenMavn:Storage:MigrateOnStartup</c> is false. Transient faults are retried by EF Core's execution strategy.
    /// </summary>
    public static IOpenMavnBuilder AddSqlServerStorage(this IOpenMavnBuilder builder, string? connectionString = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var cs = connectionString ?? builder.Configuration["Storage:ConnectionString"]
            ?? throw new InvalidOperationException("OpenMavn:Storage:ConnectionString is required for SQL Server storage.");
        return builder.AddStorage(
            (_, options) => options.UseSqlServer(cs, sql => sql.MigrationsAssembly(typeof(SqlServerStorageExtensions).Assembly.GetName().Name).EnableRetryOnFailure()),
            StorageKind.SqlServer);
    }
}

/// <summary>Lets <c>dotnet ef</c> build the SQL Server model to generate this package's migrations (no server needed).</summary>
internal sealed class SqlServerDesignTimeFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<OpenMavnDbContext>
{
    public OpenMavnDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<OpenMavnDbContext>()
            .UseSqlServer("Server=localhost;Database=OpenMavn;Trusted_Connection=True;TrustServerCertificate=True", sql => sql.MigrationsAssembly(typeof(SqlServerStorageExtensions).Assembly.GetName().Name))
            .Options);
}
