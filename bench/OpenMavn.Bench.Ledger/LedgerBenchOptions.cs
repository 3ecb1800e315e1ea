using System.Globalization;

namespace OpenMavn.Bench.Ledger;

/// <summary>Command line of the ledger benchmark.</summary>
internal sealed record LedgerBenchOptions(string Mode, int Vouchers, IReadOnlyList<int> BatchSizes, int Campaigns, string RepositoryRoot)
{
    public static string Usage(IEnumerable<string> modes) =>
        $"usage: run-ledger.sh [{string.Join('|', modes)}] [--vouchers N (one-per-transaction samples, default 60)] "
        + "[--batches 100,500] [--campaigns 4 (campaigns per issue batch)]";

    public static LedgerBenchOptions? Parse(string[] args, IEnumerable<string> modes)
    {
        var known = modes.ToHashSet(StringComparer.Ordinal);
        var mode = "--gas";
        var vouchers = 60;
        IReadOnlyList<int> batches = [100, 500];
        var campaigns = 4;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case var m when known.Contains(m):
                    mode = m;
                    break;
                case "--vouchers" when i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out var v) && v >= 2:
                    vouchers = v;
                    break;
                case "--batches" when i + 1 < args.Length:
                    var sizes = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (sizes.Length == 0 || !sizes.All(s => int.TryParse(s, CultureInfo.InvariantCulture, out var n) && n >= 1))
                    {
                        return null;
                    }

                    batches = sizes.Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--campaigns" when i + 1 < args.Length && int.TryParse(args[++i], CultureInfo.InvariantCulture, out var c) && c >= 1:
                    campaigns = c;
                    break;
                default:
                    return null;
            }
        }

        return new LedgerBenchOptions(mode, vouchers, batches, campaigns, FindRepositoryRoot());
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpenMavn.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("OpenMavn.sln not found above " + AppContext.BaseDirectory);
    }
}
