using System.Globalization;

namespace OpenMavn.Bench.Load;

/// <summary>Command-line options.</summary>
internal sealed record LoadOptions
{
    public const string Usage = """
        OpenMavn.Bench.Load [options]
          --clients N          concurrent clients (default 32)
          --warmup S           warm-up seconds per scenario, not measured (default 5)
          --duration S         measured seconds per scenario (default 20)
          --cold-runs N        cold starts of each app, median reported (default 3; 0 skips)
          --redeem-vouchers N  vouchers bought in setup and redeemed round-robin (default 2000)
          --output FILE        also write the Markdown report here (default bench/results/latest.md)
          --scenarios LIST     comma-separated subset of floor,purchase,redeem (default all; the floor runs before and after)
          --no-build           use the existing Release builds of the floor and the host
          --host-url URL       drive an already-running OpenMavn host (127.0.0.1 only; no cold start)
          --floor-url URL      drive an already-running floor app (127.0.0.1 only; no cold start)
          --admin-email E / --admin-password P   the running host's operator (OpenMavn:Api:AdminEmail/AdminPassword)
        """;

    public int Clients { get; init; } = 32;

    public int WarmupSeconds { get; init; } = 5;

    public int DurationSeconds { get; init; } = 20;

    public int ColdRuns { get; init; } = 3;

    public int RedeemVouchers { get; init; } = 2000;

    public string? Output { get; init; }

    public bool NoBuild { get; init; }

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(["floor", "purchase", "redeem"]);

    public Uri? HostUrl { get; init; }

    public Uri? FloorUrl { get; init; }

    public string AdminEmail { get; init; } = Apps.AdminEmail;

    public string AdminPassword { get; init; } = Apps.AdminPassword;

    public string RepositoryRoot { get; init; } = FindRepositoryRoot();

    public static LoadOptions? Parse(string[] args)
    {
        var o = new LoadOptions();
        o = o with { Output = Path.Combine(o.RepositoryRoot, "bench", "results", "latest.md") };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--clients": o = o with { Clients = Int() }; break;
                case "--warmup": o = o with { WarmupSeconds = Int() }; break;
                case "--duration": o = o with { DurationSeconds = Int() }; break;
                case "--cold-runs": o = o with { ColdRuns = Int() }; break;
                case "--redeem-vouchers": o = o with { RedeemVouchers = Int() }; break;
                case "--output": o = o with { Output = Next() }; break;
                case "--scenarios": o = o with { Scenarios = new HashSet<string>(Next().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) }; break;
                case "--no-build": o = o with { NoBuild = true }; break;
                case "--host-url": o = o with { HostUrl = Loopback(Next()) }; break;
                case "--floor-url": o = o with { FloorUrl = Loopback(Next()) }; break;
                case "--admin-email": o = o with { AdminEmail = Next() }; break;
                case "--admin-password": o = o with { AdminPassword = Next() }; break;
                default: return null;
            }
        }

        return o.Clients < 1 || o.DurationSeconds < 1 || o.WarmupSeconds < 0 || o.RedeemVouchers < 1 ? null : o;
    }

    // The driver sends traffic to this machine only.
    private static Uri Loopback(string url)
    {
        var uri = new Uri(url.EndsWith('/') ? url : url + "/");
        if (!uri.IsLoopback)
        {
            throw new ArgumentException($"{url}: only loopback addresses (127.0.0.1, localhost) are driven");
        }

        return uri;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpenMavn.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
