using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OpenMavn.Templates.Tests;

/// <summary>
/// <c>dotnet new openmavn</c> from the packed template: each option combination that can run here is generated,
/// built and started; SQL Server is generated and built only (no server on this machine).
/// </summary>
public sealed class TemplateTests(TemplateWorkspace workspace) : IClassFixture<TemplateWorkspace>
{
    [Fact]
    public async Task A_sqlite_sandbox_database_host_builds_starts_and_serves_health_openapi_and_the_api_reference()
    {
        var project = await workspace.GenerateAsync("Acme.Vouchers", "--database", "sqlite", "--payments", "sandbox", "--ledger", "database", "--local-packages", workspace.Packages);
        Assert.Contains($"<add key=\"openmavn-local\" value=\"{workspace.Packages}\" />", await File.ReadAllTextAsync(Path.Combine(project, "nuget.config")), StringComparison.Ordinal);
        var program = await File.ReadAllTextAsync(Path.Combine(project, "Program.cs"));
        Assert.Contains(".AddSqliteStorage()", program, StringComparison.Ordinal);
        Assert.Contains(".AddSandboxPayments()", program, StringComparison.Ordinal);
        Assert.Contains(".AddDatabaseLedger()", program, StringComparison.Ordinal);
        Assert.DoesNotContain("#if", program, StringComparison.Ordinal);

        await workspace.BuildAsync(project);

        await using var host = await GeneratedHost.StartAsync(workspace, project, "Acme.Vouchers");
        using var client = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(30) };

        var ready = await GeneratedHost.PollAsync(client, "/health/ready");
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());

        var openapi = await (await GeneratedHost.PollAsync(client, "/openapi/v1.json")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("3.", openapi.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/api/customer/orders", out _), "the customer API is mapped");
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/sandbox/checkout/{paymentId}/confirm", out _), "the sandbox payment page is mapped");

        var scalar = await client.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
        Assert.Equal("text/html", scalar.Content.Headers.ContentType?.MediaType);

        // Development seeds the demo, whose customer can sign in.
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>("/api/campaigns")).GetArrayLength());
        var login = await client.PostAsJsonAsync("/api/auth/login", new { email = "customer@demo.example", password = "customer-demo-password" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);

        Assert.DoesNotContain("fail:", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payrexx_host_builds_starts_and_keeps_the_sandbox_for_development_only()
    {
        var project = await workspace.GenerateAsync("Acme.Payrexx", "--payments", "payrexx", "--local-packages", workspace.Packages);
        var csproj = await File.ReadAllTextAsync(Path.Combine(project, "Acme.Payrexx.csproj"));
        Assert.Contains("<PackageReference Include=\"OpenMavn.Payments.Payrexx\" Version=\"$(OpenMavnVersion)\" />", csproj, StringComparison.Ordinal);
        var program = await File.ReadAllTextAsync(Path.Combine(project, "Program.cs"));
        Assert.Contains(".AddPayrexxPayments()", program, StringComparison.Ordinal);
        Assert.Contains("openMavn.AddSandboxPayments();", program, StringComparison.Ordinal);
        Assert.DoesNotContain("#if", program, StringComparison.Ordinal);
        var settings = await File.ReadAllTextAsync(Path.Combine(project, "appsettings.json"));
        Assert.Contains("\"Payrexx\": {", settings, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Sandbox\": {", settings, StringComparison.Ordinal);

        await workspace.BuildAsync(project);

        await using var host = await GeneratedHost.StartAsync(workspace, project, "Acme.Payrexx");
        using var client = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal("Healthy", await (await GeneratedHost.PollAsync(client, "/health/ready")).Content.ReadAsStringAsync());
        var openapi = await (await GeneratedHost.PollAsync(client, "/openapi/v1.json")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/webhooks/payments/{provider}", out _));
        Assert.DoesNotContain("fail:", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sendgrid_firebase_host_builds_and_starts_with_its_secrets_from_the_environment()
    {
        var project = await workspace.GenerateAsync("Acme.Notify", "--notifications", "sendgrid-firebase", "--local-packages", workspace.Packages);
        Assert.Contains("<PackageReference Include=\"OpenMavn.Notifications\" Version=\"$(OpenMavnVersion)\" />", await File.ReadAllTextAsync(Path.Combine(project, "Acme.Notify.csproj")), StringComparison.Ordinal);
        var program = await File.ReadAllTextAsync(Path.Combine(project, "Program.cs"));
        Assert.Contains(".AddSendGridEmail()", program, StringComparison.Ordinal);
        Assert.Contains(".AddFirebasePush()", program, StringComparison.Ordinal);
        Assert.DoesNotContain("#if", program, StringComparison.Ordinal);
        var settings = await File.ReadAllTextAsync(Path.Combine(project, "appsettings.json"));
        Assert.Contains("\"SendGrid\": {", settings, StringComparison.Ordinal);
        Assert.DoesNotContain("\"ApiKey\": \"", settings.Replace("// \"ApiKey\"", "", StringComparison.Ordinal), StringComparison.Ordinal);

        await workspace.BuildAsync(project);

        // The secrets come from the environment, as in production. Nothing is sent at start-up; the options are
        // validated (a missing key stops the host, checked below).
        var secrets = new Dictionary<string, string>
        {
            ["OpenMavn__Notifications__SendGrid__ApiKey"] = "SG.test-key",
            ["OpenMavn__Notifications__Firebase__ServiceAccountJson"] = "{\"type\":\"service_account\"}",
            ["OpenMavn__Notifications__Firebase__ServiceAccountFile"] = "",
        };
        await using (var host = await GeneratedHost.StartAsync(workspace, project, "Acme.Notify", secrets))
        {
            using var client = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal("Healthy", await (await GeneratedHost.PollAsync(client, "/health/ready")).Content.ReadAsStringAsync());
            Assert.DoesNotContain("fail:", host.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("SG.test-key", host.Output, StringComparison.Ordinal);
        }

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => GeneratedHost.StartAsync(workspace, project, "Acme.Notify"));
        Assert.Contains("OpenMavn:Notifications:SendGrid:ApiKey is required", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ethereum_ledger_host_builds_starts_deploys_its_contract_on_a_dev_chain_and_keeps_the_key_secret()
    {
        var project = await workspace.GenerateAsync("Acme.Chain", "--ledger", "ethereum", "--local-packages", workspace.Packages);
        Assert.Contains("<PackageReference Include=\"OpenMavn.Ledger.Ethereum\" Version=\"$(OpenMavnVersion)\" />", await File.ReadAllTextAsync(Path.Combine(project, "Acme.Chain.csproj")), StringComparison.Ordinal);
        var program = await File.ReadAllTextAsync(Path.Combine(project, "Program.cs"));
        Assert.Contains(".AddEthereumLedger()", program, StringComparison.Ordinal);
        Assert.DoesNotContain("AddDatabaseLedger", program, StringComparison.Ordinal);
        Assert.DoesNotContain("#if", program, StringComparison.Ordinal);
        var settings = await File.ReadAllTextAsync(Path.Combine(project, "appsettings.json"));
        Assert.Contains("\"Ethereum\": {", settings, StringComparison.Ordinal);
        Assert.DoesNotContain("\"OperatorPrivateKey\": \"", settings.Replace("// \"OperatorPrivateKey\"", "", StringComparison.Ordinal), StringComparison.Ordinal);

        await workspace.BuildAsync(project);

        await using var chain = await OpenMavn.Ledger.Ethereum.Tests.Infrastructure.Anvil.StartAsync();
        var secrets = new Dictionary<string, string>
        {
            ["OpenMavn__Ledger__Ethereum__RpcUrl"] = chain.RpcUrl,
            ["OpenMavn__Ledger__Ethereum__OperatorPrivateKey"] = OpenMavn.Ledger.Ethereum.Tests.Infrastructure.Anvil.PrivateKeys[0],
        };
        await using (var host = await GeneratedHost.StartAsync(workspace, project, "Acme.Chain", secrets))
        {
            using var client = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(30) };
            await GeneratedHost.PollAsync(client, "/health/live");

            // Development with no ContractAddress: the host deploys the contract from the operator account.
            using var rpc = new HttpClient();
            var deployed = false;
            for (var i = 0; i < 60 && !deployed; i++)
            {
                var nonce = await rpc.PostAsJsonAsync(chain.RpcUrl, new { jsonrpc = "2.0", id = 1, method = "eth_getTransactionCount", @params = new[] { "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "latest" } });
                deployed = (await nonce.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("result").GetString() != "0x0";
                if (!deployed)
                {
                    await Task.Delay(500);
                }
            }

            Assert.True(deployed, "the host did not deploy the ledger contract:\n" + host.Output);
            Assert.DoesNotContain("fail:", host.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(OpenMavn.Ledger.Ethereum.Tests.Infrastructure.Anvil.PrivateKeys[0][2..], host.Output, StringComparison.OrdinalIgnoreCase);
        }

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => GeneratedHost.StartAsync(workspace, project, "Acme.Chain"));
        Assert.Contains("OpenMavn:Ledger:Ethereum:OperatorPrivateKey", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sqlserver_host_is_generated_with_its_package_and_builds()
    {
        // No SQL Server runs on this machine: the host is built, not started.
        var project = await workspace.GenerateAsync("Acme.Central", "--database", "sqlserver", "--local-packages", workspace.Packages);
        var csproj = await File.ReadAllTextAsync(Path.Combine(project, "Acme.Central.csproj"));
        Assert.Contains($"<OpenMavnVersion>{workspace.Version}</OpenMavnVersion>", csproj, StringComparison.Ordinal);
        Assert.Contains("<PackageReference Include=\"OpenMavn.Storage.SqlServer\" Version=\"$(OpenMavnVersion)\" />", csproj, StringComparison.Ordinal);
        Assert.DoesNotContain("_VERSION", csproj, StringComparison.Ordinal);
        var program = await File.ReadAllTextAsync(Path.Combine(project, "Program.cs"));
        Assert.Contains(".AddSqlServerStorage()", program, StringComparison.Ordinal);
        Assert.DoesNotContain("AddSqliteStorage", program, StringComparison.Ordinal);
        Assert.Contains("Database=Acme.Central;", await File.ReadAllTextAsync(Path.Combine(project, "appsettings.json")), StringComparison.Ordinal);

        await workspace.BuildAsync(project);

        var output = Path.Combine(project, "bin", "Debug", "net10.0");
        Assert.True(File.Exists(Path.Combine(output, "Acme.Central.dll")));
        Assert.True(File.Exists(Path.Combine(output, "OpenMavn.Storage.SqlServer.dll")));
    }

    [Fact]
    public async Task The_sample_host_is_what_the_template_generates_with_its_defaults()
    {
        // Generating under the sample's name normalizes the sourceName (MavnHost); no option: the defaults.
        var generated = await workspace.GenerateAsync("OpenMavn.Host");
        var sample = Path.Combine(TemplateWorkspace.Repository, "samples", "OpenMavn.Host");
        foreach (var file in new[] { "Program.cs", "appsettings.json", "appsettings.Development.json", Path.Combine("Properties", "launchSettings.json") })
        {
            var expected = await File.ReadAllTextAsync(Path.Combine(generated, file));
            var actual = await File.ReadAllTextAsync(Path.Combine(sample, file));
            Assert.True(expected == actual, $"samples/OpenMavn.Host/{file} differs from the template's output; first difference at line {FirstDifference(expected, actual)}. Regenerate it from templates/content/OpenMavn.Host.");
        }

        // What the template generates, so a new file is a decision about the sample too. The project file is the one
        // intended difference (package references there, project references in the sample); the README and
        // nuget.config serve a standalone project.
        var files = Directory.EnumerateFiles(generated, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(generated, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            [".gitignore", "OpenMavn.Host.csproj", "Program.cs", "Properties/launchSettings.json", "README.md", "appsettings.Development.json", "appsettings.json", "nuget.config"],
            files);
        Assert.Contains("<PackageReference Include=\"OpenMavn.AspNetCore\"", await File.ReadAllTextAsync(Path.Combine(generated, "OpenMavn.Host.csproj")), StringComparison.Ordinal);
        Assert.Contains("<ProjectReference Include=\"..\\..\\src\\OpenMavn.AspNetCore\\OpenMavn.AspNetCore.csproj\" />", await File.ReadAllTextAsync(Path.Combine(sample, "OpenMavn.Host.csproj")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--database", "postgres")]
    [InlineData("--ledger", "bitcoin")]
    public async Task A_provider_the_template_does_not_offer_yet_is_refused(string option, string value)
    {
        var output = await workspace.GenerateFailsAsync(option, value);
        Assert.Contains(value, output, StringComparison.Ordinal);
    }

    private static int FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (a[i] != b[i])
            {
                return i + 1;
            }
        }

        return Math.Min(a.Length, b.Length) + 1;
    }
}
