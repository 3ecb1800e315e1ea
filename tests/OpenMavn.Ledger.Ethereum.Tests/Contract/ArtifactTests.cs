using System.Diagnostics;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests.Contract;

public sealed class ArtifactTests
{
    [Fact]
    public async Task The_committed_artifacts_match_a_fresh_build_of_the_sources()
    {
        await ContractsFolder.EnsureInstalledAsync();

        var (exitCode, output) = await RunNodeAsync(ContractsFolder.Path, "build.mjs", "--check");

        Assert.True(exitCode == 0, output);
        Assert.Contains("up to date", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_fails_naming_the_artifact_when_the_source_changed()
    {
        await ContractsFolder.EnsureInstalledAsync();
        var copy = Directory.CreateTempSubdirectory("openmavn-contracts-");
        try
        {
            CopyWithoutNodeModules(ContractsFolder.Path, copy.FullName);
            Directory.CreateSymbolicLink(Path.Combine(copy.FullName, "node_modules"), Path.Combine(ContractsFolder.Path, "node_modules"));
            var source = Path.Combine(copy.FullName, "OpenMavnVoucherLedger.sol");
            var text = await File.ReadAllTextAsync(source);
            const string line = "else if (op == 5 || op == 6) len = 7;";
            Assert.Contains(line, text, StringComparison.Ordinal);
            await File.WriteAllTextAsync(source, text.Replace(line, "else if (op == 5 || op == 6 || op == 7) len = 7;", StringComparison.Ordinal));

            var (exitCode, output) = await RunNodeAsync(copy.FullName, "build.mjs", "--check");

            Assert.True(exitCode != 0, output);
            Assert.Contains("artifacts/OpenMavnVoucherLedger.json does not match its source", output, StringComparison.Ordinal);
            Assert.DoesNotContain("BaselineVouchers1155.json", output, StringComparison.Ordinal);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_embedded_artifact_is_the_committed_one()
    {
        var committed = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(ContractsFolder.Path, "artifacts", "OpenMavnVoucherLedger.json")));

        Assert.Equal(committed.RootElement.GetProperty("bytecode").GetString(), VoucherLedgerArtifact.Bytecode);
        Assert.StartsWith("0x", VoucherLedgerArtifact.Bytecode, StringComparison.Ordinal);
        Assert.StartsWith("solc 0.8.37+", VoucherLedgerArtifact.Compiler, StringComparison.Ordinal);
        Assert.Contains("\"BatchApplied\"", VoucherLedgerArtifact.Abi, StringComparison.Ordinal);
    }

    private static void CopyWithoutNodeModules(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(directory);
            if (name != "node_modules")
            {
                var target = Path.Combine(to, name);
                Directory.CreateDirectory(target);
                CopyWithoutNodeModules(directory, target);
            }
        }

        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    private static async Task<(int ExitCode, string Output)> RunNodeAsync(string workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout + await stderr);
    }
}
