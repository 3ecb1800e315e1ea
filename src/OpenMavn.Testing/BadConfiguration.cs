using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using Xunit;

namespace OpenMavn.Testing;

/// <summary>The check every suite runs on its <c>BadConfigurations</c>: one mechanism, so the three suites judge alike.</summary>
internal static class BadConfiguration
{
    /// <summary>
    /// Registers <paramref name="configure"/> over <paramref name="settings"/>, runs what a host runs at start-up
    /// (every ValidateOnStart options class) and then <paramref name="resolve"/>; asserts that this is refused with an
    /// <see cref="OptionsValidationException"/>, <see cref="ArgumentException"/> or <see cref="ProviderException"/>
    /// whose message names <paramref name="name"/>.
    /// </summary>
    public static async Task AssertRefusedAsync(
        string name,
        Action<IOpenMavnBuilder> configure,
        IEnumerable<KeyValuePair<string, string?>>? settings,
        Action<IServiceProvider> resolve,
        string resolving)
    {
        var services = new ServiceCollection();
        configure(services.AddOpenMavn(new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build()));
        Exception? error;
        await using (var provider = services.BuildServiceProvider())
        {
            error = Record.Exception(() =>
            {
                provider.GetService<IStartupValidator>()?.Validate();
                resolve(provider);
            });
        }

        // Start-up validation throws an AggregateException of one OptionsValidationException per options class.
        var refusal = error is AggregateException aggregate
            ? aggregate.Flatten().InnerExceptions.FirstOrDefault(e => e.Message.Contains(name, StringComparison.Ordinal)) ?? aggregate.InnerExceptions[0]
            : error;
        Assert.True(
            refusal is OptionsValidationException or ArgumentException or ProviderException,
            $"Bad configuration '{name}': start-up validation or resolving {resolving} must throw OptionsValidationException, ArgumentException or ProviderException; it {(refusal is null ? "was accepted" : "threw " + refusal.GetType().Name + ": " + refusal.Message)}.");
        Assert.True(refusal!.Message.Contains(name, StringComparison.Ordinal), $"Bad configuration '{name}': the refusal must name the setting so that an operator can fix it; it said: {refusal.Message}");
    }
}
