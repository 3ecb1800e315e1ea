using System.Diagnostics.CodeAnalysis;

namespace OpenMavn.Core.Payments;

/// <summary>The registered payment providers, by name.</summary>
public sealed class PaymentProviders(IEnumerable<IPaymentProvider> providers)
{
    private readonly Dictionary<string, IPaymentProvider> _byName = providers
        .GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(g => g.Key, g => g.Last(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Registered names.</summary>
    public IReadOnlyCollection<string> Names => _byName.Keys;

    /// <summary>Finds a provider by name (case-insensitive).</summary>
    public bool TryGet(string? name, [NotNullWhen(true)] out IPaymentProvider? provider)
    {
        provider = null;
        return name is not null && _byName.TryGetValue(name, out provider);
    }

    /// <summary>Finds a provider by name or throws.</summary>
    public IPaymentProvider Get(string name) =>
        TryGet(name, out var provider)
            ? provider
            : throw new InvalidOperationException($"Payment provider '{name}' is not registered in this host.");
}
