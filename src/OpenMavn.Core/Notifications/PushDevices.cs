using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Notifications;

/// <summary>
/// The push tokens of a user, for push senders. A sender removes a token the push service reports as gone
/// (uninstalled app, invalid token) so it is not tried again.
/// </summary>
public interface IPushDevices
{
    /// <summary>The push tokens registered by <paramref name="userId"/>, oldest first.</summary>
    Task<IReadOnlyList<string>> GetTokensAsync(Guid userId, CancellationToken cancellationToken = default);

    /// <summary>Forgets a token (whoever registered it). Removing an unknown token does nothing.</summary>
    Task RemoveTokenAsync(string token, CancellationToken cancellationToken = default);
}

/// <summary>The device tokens customers registered through the customer API, read from the OpenMavn database.</summary>
internal sealed class DatabasePushDevices(OpenMavnDbContext db) : IPushDevices
{
    public async Task<IReadOnlyList<string>> GetTokensAsync(Guid userId, CancellationToken cancellationToken = default) =>
        await db.CustomerDevices.AsNoTracking().Where(d => d.CustomerId == userId).OrderBy(d => d.CreatedAt).Select(d => d.Token).ToListAsync(cancellationToken);

    public async Task RemoveTokenAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        await db.CustomerDevices.Where(d => d.Token == token).ExecuteDeleteAsync(cancellationToken);
    }
}
