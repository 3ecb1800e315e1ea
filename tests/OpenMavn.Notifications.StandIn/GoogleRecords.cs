namespace OpenMavn.Notifications.StandIn;

/// <summary>A service-account key made by <see cref="GoogleStandIn.CreateServiceAccount"/>, trusted by that stand-in.</summary>
/// <param name="Json">The key file as Google issues it (<c>type: service_account</c>, <c>private_key</c> PEM PKCS#8, <c>token_uri</c> pointing at the stand-in).</param>
/// <param name="ProjectId">The <c>project_id</c>.</param>
/// <param name="ClientEmail">The <c>client_email</c> (the JWT's <c>iss</c>).</param>
/// <param name="ClientId">The <c>client_id</c>.</param>
/// <param name="PrivateKeyId">The <c>private_key_id</c> (the JWT header's <c>kid</c>).</param>
/// <param name="PrivateKeyPem">The <c>private_key</c>: an RSA key as PEM PKCS#8 (<c>-----BEGIN PRIVATE KEY-----</c>).</param>
/// <param name="TokenUri">The <c>token_uri</c>: <c>{BaseUrl}token</c>.</param>
public sealed record ServiceAccount(
    string Json,
    string ProjectId,
    string ClientEmail,
    string ClientId,
    string PrivateKeyId,
    string PrivateKeyPem,
    Uri TokenUri);

/// <summary>An access token the stand-in's token endpoint issued.</summary>
/// <param name="AccessToken">The token (what FCM requests carry as <c>Authorization: Bearer …</c>).</param>
/// <param name="ClientEmail">The service account it was issued to.</param>
/// <param name="Scopes">The scopes the assertion asked for.</param>
/// <param name="IssuedAt">When it was issued (the stand-in's clock).</param>
/// <param name="ExpiresAt">When it stops being accepted (the stand-in's clock).</param>
public sealed record IssuedToken(
    string AccessToken,
    string ClientEmail,
    IReadOnlyList<string> Scopes,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt);

/// <summary>A message FCM accepted for delivery (<c>validate_only</c> requests are not recorded).</summary>
/// <param name="Name">The name answered: <c>projects/{projectId}/messages/{id}</c>.</param>
/// <param name="Token">The registration token, when sent to a device.</param>
/// <param name="Topic">The topic, when sent to a topic.</param>
/// <param name="Condition">The condition, when sent to a condition.</param>
/// <param name="Title">The <c>notification.title</c>, if any.</param>
/// <param name="Body">The <c>notification.body</c>, if any.</param>
/// <param name="Image">The <c>notification.image</c>, if any.</param>
/// <param name="Data">The <c>data</c> map (empty when none).</param>
/// <param name="AndroidCollapseKey">The <c>android.collapse_key</c>, if any.</param>
/// <param name="ApnsCollapseId">The <c>apns.headers["apns-collapse-id"]</c>, if any.</param>
/// <param name="RawJson">The <c>message</c> object as sent.</param>
public sealed record PushMessage(
    string Name,
    string? Token,
    string? Topic,
    string? Condition,
    string? Title,
    string? Body,
    string? Image,
    IReadOnlyDictionary<string, string> Data,
    string? AndroidCollapseKey,
    string? ApnsCollapseId,
    string RawJson);
