using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace OpenMavn.Templates.Tests;

/// <summary>
/// A throwaway folder holding this repository's packages (<c>dotnet pack</c> of the src projects and the template),
/// a throwaway HOME with the template installed, and a throwaway NuGet cache: re-packing under the same version must
/// not be hidden by the machine's cache, and nothing is installed into the machine's HOME. Restores are offline: the
/// OpenMavn packages come from the pack folder, everything else from the machine's NuGet cache used as a read-only
/// source (this test project's own restore puts every package a generated host needs there).
/// </summary>
public sealed class TemplateWorkspace : IAsyncLifetime
{
    public static readonly string Repository = FindRepository();

    private static readonly string Configuration =
        typeof(TemplateWorkspace).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "openmavn-template-tests", Guid.NewGuid().ToString("N"));

    public string Packages => Path.Combine(Root, "packages");

    public string Version { get; private set; } = "";

    private string Home => Path.Combine(Root, "home");

    private string NuGetCache => Path.Combine(Root, "nuget-cache");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Packages);
        Directory.CreateDirectory(Home);
        var machineCache = await MachineNuGetCacheAsync();

        foreach (var project in new[]
        {
            "src/OpenMavn.Core/OpenMavn.Core.csproj",
            "src/OpenMavn.AspNetCore/OpenMavn.AspNetCore.csproj",
            "src/OpenMavn.Storage.SqlServer/OpenMavn.Storage.SqlServer.csproj",
            "src/OpenMavn.Payments.Payrexx/OpenMavn.Payments.Payrexx.csproj",
            "src/OpenMavn.Notifications/OpenMavn.Notifications.csproj",
            "src/OpenMavn.Ledger.Ethereum/OpenMavn.Ledger.Ethereum.csproj",
            "src/OpenMavn.Testing/OpenMavn.Testing.csproj",
            "templates/OpenMavn.Templates.csproj",
        })
        {
            await DotnetAsync(Repository, TimeSpan.FromMinutes(2), "pack", Path.Combine(Repository, project), "--no-build", "-c", Configuration, "-o", Packages, "-nodeReuse:false");
        }

        var template = Directory.GetFiles(Packages, "OpenMavn.Templates.*.nupkg").Single();
        Version = Path.GetFileNameWithoutExtension(template)["OpenMavn.Templates.".Length..];
        await DotnetAsync(Root, TimeSpan.FromMinutes(1), "new", "install", template);

        // Every project generated under Root restores with this configuration (NuGet reads the configs of the parent
        // folders): the machine's sources are cleared so no restore goes to the network.
        await File.WriteAllTextAsync(Path.Combine(Root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="machine-cache" value="{machineCache}" />
              </packageSources>
              <packageSourceMapping>
                <!-- openmavn-local is the pack folder, added by the generated project's nuget.config. -->
                <packageSource key="openmavn-local"><package pattern="OpenMavn.*" /></packageSource>
                <packageSource key="machine-cache"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
    }

    /// <summary>Runs <c>dotnet new openmavn</c> into a new folder under the workspace and returns it.</summary>
    public async Task<string> GenerateAsync(string name, params string[] options)
    {
        var output = Path.Combine(Root, "generated", Guid.NewGuid().ToString("N")[..8], name);
        await DotnetAsync(Root, TimeSpan.FromMinutes(1), ["new", "openmavn", "-n", name, "-o", output, "--no-update-check", .. options]);
        return output;
    }

    /// <summary>Runs <c>dotnet new openmavn</c> expecting it to fail; returns its output.</summary>
    public async Task<string> GenerateFailsAsync(params string[] options)
    {
        var output = Path.Combine(Root, "generated", Guid.NewGuid().ToString("N")[..8], "Refused");
        var result = await RunAsync(Root, TimeSpan.FromMinutes(1), ["new", "openmavn", "-n", "Refused", "-o", output, "--no-update-check", .. options]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any(), "nothing is generated");
        return result.Output;
    }

    /// <summary>Builds a generated project (restoring offline into the workspace's NuGet cache).</summary>
    public Task BuildAsync(string project) =>
        DotnetAsync(project, TimeSpan.FromMinutes(3), "build", "--disable-build-servers", "-nodeReuse:false");

    /// <summary>Runs the dotnet CLI with the workspace's HOME and NuGet cache; fails the test on a non-zero exit.</summary>
    public async Task<string> DotnetAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var result = await RunAsync(workingDirectory, timeout, arguments);
        Assert.True(result.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.Output}");
        return result.Output;
    }

    /// <summary>A process start for the dotnet CLI with the workspace's environment.</summary>
    public ProcessStartInfo StartInfo(string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host runs under MSBuild's environment; a child build must find its own SDK.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["HOME"] = Home;
        start.Environment["DOTNET_CLI_HOME"] = Home;
        start.Environment["NUGET_PACKAGES"] = NuGetCache;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_GENERATE_ASPNET_CERTIFICATE"] = "false";
        start.Environment["DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE"] = "true";
        return start;
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Task.CompletedTask;
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, TimeSpan timeout, IEnumerable<string> arguments)
    {
        using var process = Process.Start(StartInfo(workingDirectory, arguments))!;
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"dotnet {string.Join(' ', arguments)} took longer than {timeout}:\n{await stdout}\n{await stderr}");
        }

        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    /// <summary>The machine's NuGet cache (global packages folder), asked of the CLI with the machine's own settings.</summary>
    private static async Task<string> MachineNuGetCacheAsync()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", "nuget locals global-packages --list")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Repository,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        const string Prefix = "global-packages:";
        var line = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        var path = line[Prefix.Length..].Trim();
        Assert.True(Directory.Exists(path), $"The machine's NuGet cache {path} does not exist.");
        return path;
    }

    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OpenMavn.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("OpenMavn.sln not found above " + AppContext.BaseDirectory);
    }
}
