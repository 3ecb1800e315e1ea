// The ledger benchmark (bench/README.md, "Ledger (gas)"). Starts its own anvil on 127.0.0.1.
//
//   bench/run-ledger.sh              gas per voucher (the default mode, `--gas`)
//   bench/run-ledger.sh --vouchers 100 --batches 100,500
//   bench/run-ledger.sh --throughput  vouchers/s mirrored through the ledger engine (5,000 issues; --vouchers N)
//
// Modes are entries of the table below; a further measurement (e.g. vouchers/s mirrored through the ledger engine)
// is one more entry with its own method, sharing the anvil launcher and the report writer.
using OpenMavn.Bench.Ledger;

var modes = new Dictionary<string, Func<LedgerBenchOptions, Task<string>>>(StringComparer.Ordinal)
{
    ["--gas"] = GasBench.RunAsync,
    ["--throughput"] = Throughput.RunAsync,
};

var options = LedgerBenchOptions.Parse(args, modes.Keys);
if (options is null)
{
    Console.Error.WriteLine(LedgerBenchOptions.Usage(modes.Keys));
    return 2;
}

var report = await modes[options.Mode](options);
Console.WriteLine(report);
var resultName = options.Mode == "--gas" ? "ledger-latest.md" : $"ledger-{options.Mode.TrimStart('-')}-latest.md";
var resultFile = Path.Combine(options.RepositoryRoot, "bench", "results", resultName);
Directory.CreateDirectory(Path.GetDirectoryName(resultFile)!);
await File.WriteAllTextAsync(resultFile, report);
Console.Error.WriteLine($"written to {resultFile}");
return 0;
