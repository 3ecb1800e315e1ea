namespace OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

/// <summary>One anvil per test class (a long-lived node slows down after a few thousand blocks).</summary>
public sealed class AnvilFixture : IAsyncLifetime
{
    private Anvil? _anvil;

    public Anvil Anvil => _anvil ?? throw new InvalidOperationException("Not started.");

    public string RpcUrl => Anvil.RpcUrl;

    public async Task InitializeAsync() => _anvil = await Anvil.StartAsync();

    public async Task DisposeAsync()
    {
        if (_anvil is not null)
        {
            await _anvil.DisposeAsync();
        }
    }
}
