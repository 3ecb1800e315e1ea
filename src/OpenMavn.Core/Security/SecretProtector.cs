using Microsoft.AspNetCore.DataProtection;

namespace OpenMavn.Core.Security;

/// <summary>
/// Encrypts secrets at rest (payment credentials, operator keys) with ASP.NET Core Data Protection, whose keys
/// are kept in the OpenMavn database so that every host instance can read what another wrote.
/// </summary>
public sealed class SecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("OpenMavn.Secrets.v1");

    /// <summary>
    /// Encrypts. Call it outside database transactions: the first call (and each key rotation) writes a new key to
    /// the OpenMavn database.
    /// </summary>
    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>Decrypts.</summary>
    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
