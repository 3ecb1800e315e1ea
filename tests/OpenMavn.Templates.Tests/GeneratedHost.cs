using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenMavn.Templates.Tests;

/// <summary>
/// A generated host running as its own process in Development on 127.0.0.1 (a free port, read from its log), killed
/// with its process tree on dispose whatever happened.
/// </summary>
public sealed partial class GeneratedHost : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly StringBuilder _output;

    private GeneratedHost(Process process, StringBuilder output, Uri address)
    {
        _process = process;
        _output = output;
        Address = address;
    }

    public Uri Address { get; }

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

    public static async Task<GeneratedHost> StartAsync(TemplateWorkspace workspace, string project, string name, IReadOnlyDictionary<string, string>? environment = null)
    {
        var assembly = Path.Combine(project, "bin", "Debug", "net10.0", name + ".dll");
        Assert.True(File.Exists(assembly), assembly + " was not built.");
        var start = workspace.StartInfo(project, [assembly, "--urls", "http://127.0.0.1:0"]);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (ListeningOn().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        }

        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The host exited before it listened."));
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var host = new GeneratedHost(process, output, new Uri("http://127.0.0.1/"));
        Uri address;
        try
        {
            address = await listening.Task.WaitAsync(StartTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            await host.DisposeAsync();
            throw new InvalidOperationException($"The generated host did not start within {StartTimeout}: {ex.Message}\n{host.Output}", ex);
        }

        return new GeneratedHost(process, output, address);
    }

    /// <summary>GETs a path until it answers 200 (the host may still be warming up), at most 30 s.</summary>
    public static async Task<HttpResponseMessage> PollAsync(HttpClient client, string path)
    {
        ArgumentNullException.ThrowIfNull(client);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            HttpResponseMessage? response = null;
            try
            {
                response = await client.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return response;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"GET {path} answered {response?.StatusCode.ToString() ?? "nothing"} for 30 s.");
            }

            response?.Dispose();
            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
