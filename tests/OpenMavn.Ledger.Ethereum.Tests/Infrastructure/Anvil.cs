using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

/// <summary>
/// A throwaway anvil dev chain on 127.0.0.1 with a free port, started per test class (a long-lived node slows down
/// after a few thousand blocks). The binary comes from the npm package in <c>contracts/</c>; when it is not installed
/// yet, <see cref="ContractsFolder.EnsureInstalledAsync"/> runs <c>npm ci</c> there first, so <c>dotnet test</c> works
/// on a fresh machine that has Node.js.
/// </summary>
public sealed partial class Anvil : IAsyncDisposable
{
    /// <summary>Chain id anvil uses unless told otherwise.</summary>
    public const long ChainId = 31337;

    /// <summary>
    /// Private keys of anvil's first accounts (the public "test test … junk" mnemonic). Account 0 is the platform
    /// operator in tests; the others play strangers.
    /// </summary>
    public static readonly IReadOnlyList<string> PrivateKeys =
    [
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    ];

    private readonly Process _process;
    private readonly StringBuilder _output;
    private int _disposed;

    private Anvil(Process process, StringBuilder output, int port)
    {
        _process = process;
        _output = output;
        Port = port;
    }

    /// <summary>The JSON-RPC port.</summary>
    public int Port { get; }

    /// <summary>The JSON-RPC endpoint.</summary>
    public string RpcUrl => $"http://127.0.0.1:{Port}";

    /// <summary>What anvil printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts anvil. <paramref name="extraArguments"/> e.g. <c>--block-time 1</c> or <c>--base-fee 0</c>.</summary>
    public static async Task<Anvil> StartAsync(string extraArguments = "", int? port = null, CancellationToken cancellationToken = default)
    {
        var binary = await ContractsFolder.EnsureInstalledAsync(cancellationToken);
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var info = new ProcessStartInfo(binary, $"--host 127.0.0.1 --port {port ?? 0} --chain-id {ChainId} {extraArguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            var match = ListeningLine().Match(line);
            if (match.Success)
            {
                listening.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("anvil exited before listening:\n" + output));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var actualPort = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            return new Anvil(process, output, actualPort);
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>Stops the node (the chain is gone). A second call does nothing (a test may stop the chain early).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Kill(_process);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    [GeneratedRegex(@"Listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}

/// <summary>The repository's <c>contracts/</c> folder (Solidity sources, solc, anvil from npm).</summary>
public static class ContractsFolder
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The <c>contracts/</c> folder, found by walking up from the test assembly.</summary>
    public static string Path
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "OpenMavn.sln")))
            {
                dir = dir.Parent;
            }

            return dir is null
                ? throw new InvalidOperationException("OpenMavn.sln not found above " + AppContext.BaseDirectory)
                : System.IO.Path.Combine(dir.FullName, "contracts");
        }
    }

    /// <summary>
    /// Makes sure <c>npm ci</c> ran in <c>contracts/</c> (once per machine; a file lock keeps parallel test processes
    /// from installing at the same time) and returns the anvil binary.
    /// </summary>
    public static async Task<string> EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        var anvil = System.IO.Path.Combine(Path, "node_modules", ".bin", "anvil");
        var solc = System.IO.Path.Combine(Path, "node_modules", "solc", "soljson.js");
        if (File.Exists(anvil) && File.Exists(solc))
        {
            return anvil;
        }

        await Gate.WaitAsync(cancellationToken);
        try
        {
            using var fileLock = await AcquireFileLockAsync(System.IO.Path.Combine(Path, ".npm-install.lock"), cancellationToken);
            if (File.Exists(anvil) && File.Exists(solc))
            {
                return anvil;
            }

            var info = new ProcessStartInfo("npm", "ci")
            {
                WorkingDirectory = Path,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm could not be started; install Node.js, then run `npm ci` in contracts/.");
            var stdout = npm.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = npm.StandardError.ReadToEndAsync(cancellationToken);
            await npm.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(10), cancellationToken);
            if (npm.ExitCode != 0 || !File.Exists(anvil))
            {
                throw new InvalidOperationException($"`npm ci` in {Path} failed ({npm.ExitCode}):\n{await stdout}\n{await stderr}");
            }

            return anvil;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 1200)
            {
                await Task.Delay(500, cancellationToken);
            }
        }
    }
}
