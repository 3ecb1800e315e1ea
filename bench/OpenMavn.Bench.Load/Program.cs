// The load driver (bench/README.md, "Load"). Every request goes to 127.0.0.1 only.
using System.Diagnostics;
using System.Globalization;
using OpenMavn.Bench.Load;

var options = LoadOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

var runDirectory = Path.Combine(Path.GetTempPath(), "openmavn-bench-load", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
Directory.CreateDirectory(runDirectory);
Console.Error.WriteLine($"run directory (databases, app logs): {runDirectory}");

if (options.HostUrl is null || options.FloorUrl is null)
{
    Apps.Build(options.RepositoryRoot, options.NoBuild);
}

var report = new Report(options, Machine.Describe());
report.LoadBefore = Machine.LoadAverage();

await using var floor = options.FloorUrl is null ? await Apps.StartFloorAsync(options.RepositoryRoot, runDirectory, "floor") : null;
await using var host = options.HostUrl is null ? await Apps.StartHostAsync(options.RepositoryRoot, runDirectory, "host") : null;
var floorUrl = options.FloorUrl ?? floor!.BaseAddress;
var hostUrl = options.HostUrl ?? host!.BaseAddress;

using var http = Driver.CreateClient(options.Clients);
var api = new Api(http, hostUrl);

Console.Error.WriteLine($"setup: operator, merchant, campaign, API key, {options.Clients} customers, {options.RedeemVouchers} vouchers for redeeming…");
var setup = Stopwatch.StartNew();
var world = await api.SetUpAsync(options.Clients, options.RedeemVouchers, options.AdminEmail, options.AdminPassword);
Console.Error.WriteLine($"setup done in {setup.Elapsed.TotalSeconds:F1} s");

var driver = new Driver(options);

// Floor before and after the OpenMavn scenarios: the ratio uses their mean, so drift during the run shows up.
if (options.Scenarios.Contains("floor"))
{
    report.Add(await driver.RunAsync("floor", Scenarios.Floor(http, floorUrl)));
}

if (options.Scenarios.Contains("purchase"))
{
    report.Add(await driver.RunAsync("purchase", Scenarios.Purchase(api, world)));
    report.PurchaseCheck = await api.CheckPurchasesAsync(world);
}

if (options.Scenarios.Contains("redeem"))
{
    report.Add(await driver.RunAsync("redeem", Scenarios.Redeem(api, world)));
}

if (options.Scenarios.Contains("floor"))
{
    report.Add(await driver.RunAsync("floor (again)", Scenarios.Floor(http, floorUrl)));
}

if (host is not null && floor is not null && options.ColdRuns > 0)
{
    await host.StopAsync();
    await floor.StopAsync();
    Console.Error.WriteLine($"cold start: {options.ColdRuns} runs each…");
    for (var i = 0; i < options.ColdRuns; i++)
    {
        report.HostColdStarts.Add(await Apps.ColdStartAsync(() => Apps.StartHostAsync(options.RepositoryRoot, runDirectory, "host", waitReady: false), c => Scenarios.ColdProbeHostAsync(c, world)));
        report.FloorColdStarts.Add(await Apps.ColdStartAsync(() => Apps.StartFloorAsync(options.RepositoryRoot, runDirectory, "floor", waitReady: false), Scenarios.ColdProbeFloorAsync));
    }
}

report.LoadAfter = Machine.LoadAverage();
var markdown = report.ToMarkdown();
Console.WriteLine(markdown);
if (options.Output is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);
    await File.WriteAllTextAsync(options.Output, markdown);
    Console.Error.WriteLine($"written to {options.Output}");
}

return 0;
