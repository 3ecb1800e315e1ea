using System.Text.RegularExpressions;

namespace OpenMavn.Templates.Tests;

/// <summary>
/// The QR-bill sample is a provider written as a third party would: against the packed OpenMavn packages only. Its two
/// projects are copied out of the repository (so no project reference and no repository build file can help), pointed
/// at the pack folder, built and tested — its own tests and the conformance kit from the OpenMavn.Testing package.
/// </summary>
public sealed partial class QrBillSampleTests(TemplateWorkspace workspace) : IClassFixture<TemplateWorkspace>
{
    private static readonly string[] Projects = ["OpenMavn.Samples.QrBillPayments", "OpenMavn.Samples.QrBillPayments.Tests"];

    [Fact]
    public async Task The_qr_bill_sample_builds_on_the_packages_alone_and_passes_its_tests_and_the_conformance_kit()
    {
        var root = Path.Combine(workspace.Root, "samples-copy", Guid.NewGuid().ToString("N")[..8]);
        foreach (var project in Projects)
        {
            var source = Path.Combine(TemplateWorkspace.Repository, "samples", project);
            var target = Path.Combine(root, project);
            Copy(source, target);
            var csproj = await File.ReadAllTextAsync(Path.Combine(target, project + ".csproj"));
            Assert.DoesNotContain("src\\OpenMavn", csproj, StringComparison.Ordinal);
            Assert.DoesNotContain("src/OpenMavn", csproj, StringComparison.Ordinal);

            // The same nuget.config as in the repository, with the pack folder instead of artifacts/packages.
            await File.WriteAllTextAsync(Path.Combine(target, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="openmavn-local" value="{workspace.Packages}" />
                  </packageSources>
                </configuration>
                """);
        }

        Assert.Contains("<PackageReference Include=\"OpenMavn.Core\"", await File.ReadAllTextAsync(Path.Combine(root, Projects[0], Projects[0] + ".csproj")), StringComparison.Ordinal);
        var output = await workspace.DotnetAsync(
            Path.Combine(root, Projects[1]),
            TimeSpan.FromMinutes(10),
            "test", $"-p:OpenMavnVersion={workspace.Version}", "--disable-build-servers", "-nodeReuse:false");

        var summary = Summary().Match(output);
        Assert.True(summary.Success, output);
        Assert.Equal("0", summary.Groups["failed"].Value);
        Assert.Contains("QrBillPaymentConformance", await File.ReadAllTextAsync(Path.Combine(root, Projects[1], "QrBillPaymentConformance.cs")), StringComparison.Ordinal);

        // Its own tests (≈ 64) and the kit's payment suite (31) ran.
        Assert.True(int.Parse(summary.Groups["passed"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 90, output);
    }

    private static void Copy(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            var top = relative.Split(Path.DirectorySeparatorChar)[0];
            if (top is "bin" or "obj")
            {
                continue;
            }

            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    [GeneratedRegex(@"Failed:\s+(?<failed>\d+), Passed:\s+(?<passed>\d+)")]
    private static partial Regex Summary();
}
