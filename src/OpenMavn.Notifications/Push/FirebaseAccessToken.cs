using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Microsoft.Extensions.Options;
using OpenMavn.Core;

namespace OpenMavn.Notifications.Push;

/// <summary>
/// OAuth2 access tokens for FCM from the service account (a JWT assertion signed with its key, exchanged at its
/// <c>token_uri</c>). Google.Apis.Auth caches the token and refreshes it before it expires.
/// </summary>
public sealed class FirebaseAccessToken(IOptions<FirebasePushOptions> options)
{
    internal const string Scope = "https://www.googleapis.com/auth/firebase.messaging";

    private Lazy<ITokenAccess> _credential = new(() => Create(options.Value));

    /// <summary>A valid access token (cached until shortly before it expires).</summary>
    public async Task<string> GetAsync(CancellationToken cancellationToken = default)
    {
        ITokenAccess credential;
        try
        {
            credential = Volatile.Read(ref _credential).Value;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException or Newtonsoft.Json.JsonException)
        {
            throw new ProviderException("firebase", $"the service account key is not usable ({ex.GetType().Name}): check OpenMavn:Notifications:Firebase.", transient: false, innerException: ex);
        }

        // Google's token client has its own 100 s timeout; a hanging token endpoint must not hold the outbox that long.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.RequestTimeout);
        try
        {
            return await credential.GetAccessTokenForRequestAsync(cancellationToken: timeout.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw NotificationOptionsChecks.Transport("firebase", new TaskCanceledException("token request timed out", ex));
        }
        catch (TokenResponseException ex)
        {
            // invalid_grant/invalid_client: the key was revoked or is wrong; retrying will not help.
            var permanent = ex.Error?.Error is "invalid_grant" or "invalid_client" or "unauthorized_client";
            throw new ProviderException("firebase", $"the token endpoint refused the service account ({ex.Error?.Error ?? ex.StatusCode?.ToString() ?? "no answer"})", transient: !permanent, innerException: ex);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw NotificationOptionsChecks.Transport("firebase", ex);
        }
    }

    /// <summary>
    /// Forgets the cached token after FCM refused it (401: revoked, key rotated): the next <see cref="GetAsync"/>
    /// asks the token endpoint for a new one instead of presenting the refused token until it expires.
    /// </summary>
    internal void Invalidate() => Volatile.Write(ref _credential, new(() => Create(options.Value)));

    private static ITokenAccess Create(FirebasePushOptions options)
    {
        var json = options.ServiceAccountJson is { Length: > 0 } inline ? inline : File.ReadAllText(options.ServiceAccountFile!);
        return CredentialFactory.FromJson<ServiceAccountCredential>(json).ToGoogleCredential().CreateScoped(Scope);
    }
}
