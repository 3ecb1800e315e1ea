// OpenMavn scale benchmark: bulk-seed N vouchers into a migrated SQLite file, then time redemptions of random ones
// through Core's RedemptionService (in-process: the code path the redeem endpoint calls, without HTTP).
//   dotnet run -c Release --project bench/OpenMavn.Bench.Scale [-- --sizes 10000,1000000 --redemptions 2000 --warmup 200]
using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn;
using OpenMavn.Bench.Scale;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var sizes = Option("--sizes", "10000,1000000").Split(',').Select(int.Parse).ToArray();
var redemptions = int.Parse(Option("--redemptions", "2000"));
var warmup = int.Parse(Option("--warmup", "200"));
var explain = args.Contains("--explain");
var keep = args.Contains("--keep");

Console.WriteLine($"OpenMavn scale benchmark: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
Console.WriteLine($"sizes {string.Join(", ", sizes)}; {warmup} warm-up + {redemptions} timed redemptions per size, one at a time, in-process (RedemptionService)");
// A throwaway round first, so that the first measured size does not pay for JIT tiering the later ones do not.
Console.WriteLine();
Console.WriteLine("process warm-up (not reported):");
await RunAsync(2_000, 1_000, 1, report: false);
var results = new List<(int Size, TimeSpan Seed, long Bytes, double P50, double P95, double P99, double Mean)>();
foreach (var size in sizes)
{
    results.Add(await RunAsync(size, warmup, redemptions, report: true));
}

Console.WriteLine();
Console.WriteLine("| vouchers | seed time | database size | redeem p50 | p95 | p99 | mean |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in results)
{
    Console.WriteLine($"| {r.Size:N0} | {r.Seed.TotalSeconds:F1} s | {r.Bytes / 1048576.0:F0} MiB | {r.P50:F2} ms | {r.P95:F2} ms | {r.P99:F2} ms | {r.Mean:F2} ms |");
}

if (results.Count >= 2)
{
    var small = results[0];
    var large = results[^1];
    Console.WriteLine();
    Console.WriteLine($"ratio {large.Size:N0} / {small.Size:N0}: p50 {large.P50 / small.P50:F2}, p95 {large.P95 / small.P95:F2}, p99 {large.P99 / small.P99:F2}, mean {large.Mean / small.Mean:F2} (target ≤ 1.2)");
}

return;

async Task<(int Size, TimeSpan Seed, long Bytes, double P50, double P95, double P99, double Mean)> RunAsync(int size, int warmup, int redemptions, bool report)
{
    Console.WriteLine();
    Console.WriteLine($"== {size:N0} vouchers");
    var directory = Path.Combine(Path.GetTempPath(), "openmavn-bench-scale", Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(directory);
    var file = Path.Combine(directory, "openmavn.db");
    var recorder = new CommandRecorder();
    var collection = new ServiceCollection();
    collection.AddLogging();
    collection.AddOpenMavn(o => o.Jobs.Enabled = false)
        .AddSqliteStorage($"Data Source={file}")
        .AddSandboxPayments(o => o.AllowInProduction = true) // no IHostEnvironment here, which reads as Production
        .AddDatabaseLedger();

    // The same options AddSqliteStorage registers, plus an interceptor that records SQL for --explain.
    var connectionString = new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 60 }.ToString();
    new OpenMavnBuilderShim(collection).Storage(connectionString, recorder);
    await using var services = collection.BuildServiceProvider();
    await services.MigrateOpenMavnDatabaseAsync();

    // One merchant with a published campaign, set up through Core like any host would.
    var owner = Actor.Member(Guid.NewGuid());
    var admin = Actor.Admin(Guid.NewGuid());
    var merchant = await Run<MerchantService, Merchant>(services, s => s.RegisterAsync(owner, new RegisterMerchant("Café Sonne", "owner@sonne.example.ch", "CH", "Europe/Zurich", "de")));
    await Run<MerchantService, bool>(services, async s => { await s.SubmitForReviewAsync(owner, merchant.Id); return true; });
    await Run<MerchantService, bool>(services, async s => { await s.ApproveAsync(admin, merchant.Id); return true; });
    await Run<MerchantService, bool>(services, async s => { await s.ConnectPaymentAccountAsync(owner, merchant.Id, "sandbox", "cafe-sonne", "sk_test_secret_123"); return true; });
    var definition = new CampaignDefinition(
        [new CampaignText("de", "Kaffee-Gutschein", "Für 50 Franken Kaffee"), new CampaignText("en", "Coffee voucher")],
        "de", "CHF", 5000, 4500, VoucherKind.StoredValue, Math.Min(CampaignService.MaxSupply, size + 10), null, null, null, ValidityKind.DaysAfterPurchase, null, 365, true, true);
    var campaign = await Run<CampaignService, Campaign>(services, s => s.CreateAsync(owner, merchant.Id, definition));
    await Run<CampaignService, bool>(services, async s => { await s.PublishAsync(owner, campaign.Id); return true; });

    // The template: one real purchase (customer, order, sandbox payment, issued voucher, history, books).
    await using var raw = new SqliteConnection(connectionString);
    await raw.OpenAsync();
    var before = Seeder.Watermarks(raw);
    var (reservedBefore, issuedBefore) = Counters(raw, campaign.Id);
    var customerId = Guid.NewGuid();
    await Run<CustomerService, Customer>(services, s => s.RegisterAsync(customerId, $"c{customerId:N}@example.ch", "Customer " + customerId.ToString("N")[..6], "de"));
    var order = await Run<PurchaseService, Order>(services, s => s.PlaceOrderAsync(Actor.Customer(customerId), new PlaceOrder(campaign.Id, 1, Guid.NewGuid().ToString())));
    await services.GetRequiredService<SandboxPaymentProvider>().ConfirmAsync(order.ProviderPaymentId!);
    var templateCode = await Run<OpenMavnDbContext, string>(services, db => db.Vouchers.Where(v => v.OrderId == order.Id).Select(v => v.Code).SingleAsync());
    var (reservedAfter, issuedAfter) = Counters(raw, campaign.Id);

    // Bulk seed: size − 1 clones of that purchase (the template is the size-th voucher).
    var seedClock = Stopwatch.StartNew();
    Exec(raw, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;");
    var codes = Seeder.Clone(raw, before, templateCode, size - 1, Console.Out);
    using (var counters = raw.CreateCommand())
    {
        counters.CommandText = "UPDATE \"Campaigns\" SET \"Reserved\" = \"Reserved\" + $r, \"Issued\" = \"Issued\" + $i WHERE \"Id\" = $id";
        counters.Parameters.AddWithValue("$r", (long)(reservedAfter - reservedBefore) * (size - 1));
        counters.Parameters.AddWithValue("$i", (long)(issuedAfter - issuedBefore) * (size - 1));
        counters.Parameters.AddWithValue("$id", campaign.Id.ToString("D").ToUpperInvariant());
        if (counters.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException("The campaign's counters were not updated.");
        }
    }

    Exec(raw, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA synchronous = NORMAL;");
    seedClock.Stop();
    var vouchers = Scalar(raw, "SELECT COUNT(*) FROM \"Vouchers\"");
    var bytes = new FileInfo(file).Length;
    Console.WriteLine($"  seeded {vouchers:N0} vouchers in {seedClock.Elapsed.TotalSeconds:F1} s ({(size - 1) / seedClock.Elapsed.TotalSeconds:N0} purchases/s); database {bytes / 1048576.0:F0} MiB");

    // Redeem random vouchers, one at a time, each in its own scope (a request's DbContext), 10.00 of 50.00.
    var random = new Random(size);
    var picks = Enumerable.Range(0, codes.Length).OrderBy(_ => random.Next()).Take(warmup + redemptions).Select(i => VoucherCode.Format(codes[i])).ToArray();
    if (picks.Length < warmup + redemptions)
    {
        throw new InvalidOperationException("Not enough vouchers for the redemptions asked for.");
    }

    var latencies = new double[redemptions];
    for (var i = 0; i < picks.Length; i++)
    {
        recorder.Recording = explain && report && i == warmup;
        var started = Stopwatch.GetTimestamp();
        await Run<RedemptionService, RedemptionReceipt>(services, s => s.RedeemAsync(owner, merchant.Id, picks[i], 1000, Guid.NewGuid().ToString()));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (i >= warmup)
        {
            latencies[i - warmup] = elapsed;
        }
    }

    recorder.Recording = false;
    Array.Sort(latencies);
    var p50 = Percentile(latencies, 0.50);
    var p95 = Percentile(latencies, 0.95);
    var p99 = Percentile(latencies, 0.99);
    var mean = latencies.Average();
    Console.WriteLine($"  redeem: p50 {p50:F2} ms, p95 {p95:F2} ms, p99 {p99:F2} ms, mean {mean:F2} ms, max {latencies[^1]:F2} ms");
    if (explain && report)
    {
        Explain(raw, recorder);
    }

    raw.Close();
    await services.DisposeAsync();
    SqliteConnection.ClearAllPools();
    if (keep)
    {
        Console.WriteLine($"  kept {file}");
    }
    else
    {
        Directory.Delete(directory, recursive: true);
    }

    return (size, seedClock.Elapsed, bytes, p50, p95, p99, mean);
}

static async Task<T> Run<TService, T>(IServiceProvider services, Func<TService, Task<T>> work)
    where TService : notnull
{
    await using var scope = services.CreateAsyncScope();
    return await work(scope.ServiceProvider.GetRequiredService<TService>());
}

static (int Reserved, int Issued) Counters(SqliteConnection connection, Guid campaignId)
{
    using var command = connection.CreateCommand();
    command.CommandText = "SELECT \"Reserved\", \"Issued\" FROM \"Campaigns\" WHERE \"Id\" = $id";
    command.Parameters.AddWithValue("$id", campaignId.ToString("D").ToUpperInvariant());
    using var reader = command.ExecuteReader();
    return reader.Read() ? (reader.GetInt32(0), reader.GetInt32(1)) : throw new InvalidOperationException("No campaign.");
}

static void Exec(SqliteConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

static long Scalar(SqliteConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    return (long)command.ExecuteScalar()!;
}

static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

// Every statement one redemption sent, with SQLite's plan for it.
static void Explain(SqliteConnection connection, CommandRecorder recorder)
{
    Console.WriteLine("  query plans of one redemption:");
    foreach (var (sql, parameters) in recorder.Commands)
    {
        foreach (var statement in sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (statement.StartsWith("PRAGMA", StringComparison.OrdinalIgnoreCase) || statement.StartsWith("BEGIN", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            using var command = connection.CreateCommand();
            command.CommandText = "EXPLAIN QUERY PLAN " + statement;
            foreach (var (name, value) in parameters.Where(p => statement.Contains(p.Name, StringComparison.Ordinal)))
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            Console.WriteLine("    " + string.Join(' ', statement.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                Console.WriteLine("      → " + reader.GetString(3));
            }
        }
    }
}

string Option(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

/// <summary>Re-registers the SQLite storage exactly as AddSqliteStorage does, with a command interceptor added.</summary>
internal sealed class OpenMavnBuilderShim(IServiceCollection services)
{
    public void Storage(string connectionString, CommandRecorder recorder) =>
        services.AddOpenMavn().AddStorage(
            (_, options) => options.UseSqlite(connectionString, sqlite => sqlite.MigrationsAssembly(typeof(OpenMavnDbContext).Assembly.GetName().Name)).AddInterceptors(recorder),
            StorageKind.Sqlite);
}
