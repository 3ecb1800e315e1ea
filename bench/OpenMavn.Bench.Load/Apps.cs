using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OpenMavn.Bench.Load;

/// <summary>The floor app and the OpenMavn host as child processes (Release builds, Production, 127.0.0.1).</summary>
internal static class Apps
{
    public const string AdminEmail = "operator@bench.openmavn.test";
    public const string AdminPassword = "bench-operator-password-1";

    // Raised for the bench: the defaults (10 sign-ins, 30/60 code lookups a minute) are there to stop guessing, and
    // would turn the load into 429s. Everything else is the template host's Production configuration (jobs on).
    public const string RaisedLimit = "100000000";

    private const string Configuration = "Release";

    private static string FloorProject(string root) => Path.Combine(root, "bench", "OpenMavn.Bench.Floor", "OpenMavn.Bench.Floor.csproj");

    private static string HostProject(string root) => Path.Combine(root, "samples", "OpenMavn.Host", "OpenMavn.Host.csproj");

    private static string Output(string project) => Path.Combine(Path.GetDirectoryName(project)!, "bin", Configuration, "net10.0");

    public static void Build(string root, bool noBuild)
    {
        if (noBuild)
        {
            return;
        }

        foreach (var project in new[] { FloorProject(root), HostProject(root) })
        {
            Console.Error.WriteLine($"dotnet build -c {Configuration} {project}");
            using var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-c", Configuration, "--nologo", "-v", "q"]) { RedirectStandardOutput = true })!;
            var output = build.StandardOutput.ReadToEnd();
            build.WaitForExit();
            if (build.ExitCode != 0)
            {
                throw new InvalidOperationException($"build failed: {project}\n{output}");
            }
        }
    }

    public static Task<AppProcess> StartFloorAsync(string root, string runDirectory, string name, bool waitReady = true) =>
        AppProcess.StartAsync(
            name,
            Path.Combine(Output(FloorProject(root)), "OpenMavn.Bench.Floor.dll"),
            runDirectory,
            port => new Dictionary<string, string>
            {
                ["Floor__Database"] = Path.Combine(runDirectory, "floor.db"),
            },
            "health",
            waitReady);

    public static Task<AppProcess> StartHostAsync(string root, string runDirectory, string name, bool waitReady = true) =>
        AppProcess.StartAsync(
            name,
            Path.Combine(Output(HostProject(root)), "OpenMavn.Host.dll"),
            runDirectory,
            port => new Dictionary<string, string>
            {
                ["OpenMavn__Storage__ConnectionString"] = $"Data Source={Path.Combine(runDirectory, "openmavn.db")}",
                ["OpenMavn__Api__AdminEmail"] = AdminEmail,
                ["OpenMavn__Api__AdminPassword"] = AdminPassword,
                ["OpenMavn__Api__SignInPermitsPerMinute"] = RaisedLimit,
                ["OpenMavn__Api__CodeLookupsPerMinutePerUser"] = RaisedLimit,
                ["OpenMavn__Api__CodeLookupsPerMinutePerIp"] = RaisedLimit,
                ["OpenMavn__Payments__Sandbox__AllowInProduction"] = "true",
                ["OpenMavn__Payments__Sandbox__CheckoutBaseUrl"] = $"http://127.0.0.1:{port}/sandbox/checkout/",
            },
            "health/ready",
            waitReady);

    /// <summary>
    /// Cold start: from process start (just before <see cref="Process.Start()"/>) to the first successful answer of a
    /// real request, polled every 5 ms; the app is stopped afterwards.
    /// </summary>
    public static async Task<TimeSpan> ColdStartAsync(Func<Task<AppProcess>> start, Func<Uri, Task<bool>> probe)
    {
        var clock = Stopwatch.StartNew();
        await using var app = await start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await probe(app.BaseAddress))
        {
            if (app.HasExited)
            {
                throw new InvalidOperationException($"{app.Name} exited during cold start; see {app.LogFile}");
            }

            await Task.Delay(5, timeout.Token);
        }

        var elapsed = clock.Elapsed;
        await app.StopAsync();
        Console.Error.WriteLine($"  cold start {app.Name}: {elapsed.TotalMilliseconds:F0} ms");
        return elapsed;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A child process serving HTTP on 127.0.0.1; its output goes to a log file in the run directory.</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private AppProcess(string name, Process process, Uri baseAddress, StreamWriter log, string logFile)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
        _log = log;
        LogFile = logFile;
    }

    public string Name { get; }

    public Uri BaseAddress { get; }

    public string LogFile { get; }

    public bool HasExited => _process.HasExited;

    public static async Task<AppProcess> StartAsync(string name, string dll, string runDirectory, Func<int, Dictionary<string, string>> environment, string readyPath, bool waitReady)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build it (dotnet build -c Release) or drop --no-build", dll);
        }

        var port = Apps.FreePort();
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment(port))
        {
            info.Environment[key] = value;
        }

        var logFile = Path.Combine(runDirectory, $"{name}.log");
        var log = new StreamWriter(logFile, append: true) { AutoFlush = false };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppProcess(name, process, new Uri($"http://127.0.0.1:{port}/"), log, logFile);
        Console.Error.WriteLine($"  {name}: pid {process.Id}, {app.BaseAddress}");
        if (waitReady)
        {
            await app.WaitReadyAsync(readyPath);
        }

        return app;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async Task WaitReadyAsync(string path)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}; see {LogFile}");
            }

            try
            {
                using var response = await client.GetAsync(path);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{Name} not ready after 120 s; see {LogFile}");
    }

    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            // SIGKILL of our own child only (by its process object); SQLite's WAL keeps the database consistent.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        lock (_log)
        {
            _log.Flush();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
