using System.Net.Http.Json;
using System.Text.Json;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

public sealed class AnvilStartsTests
{
    [Fact]
    public async Task A_fresh_anvil_answers_on_loopback_with_the_expected_chain_id()
    {
        await using var anvil = await Anvil.StartAsync();
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync(anvil.RpcUrl, new { jsonrpc = "2.0", id = 1, method = "eth_chainId", @params = Array.Empty<object>() });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("0x7a69", body.GetProperty("result").GetString());
        Assert.StartsWith("http://127.0.0.1:", anvil.RpcUrl, StringComparison.Ordinal);
    }
}
