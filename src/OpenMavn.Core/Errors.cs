namespace OpenMavn.Core;

/// <summary>
/// The base of every error OpenMavn raises on purpose. <see cref="Code"/> is stable and machine-readable
/// (<c>voucher.already_redeemed</c>); the HTTP layer maps the subclasses to RFC 7807 problem responses.
/// </summary>
public class OpenMavnException : Exception
{
    /// <summary>Creates the error.</summary>
    public OpenMavnException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>A stable machine-readable code.</summary>
    public string Code { get; }
}

/// <summary>Input that breaks a rule; <see cref="Errors"/> names every offending field.</summary>
public sealed class ValidationFailedException : OpenMavnException
{
    /// <summary>Creates the error from field → messages.</summary>
    public ValidationFailedException(IReadOnlyDictionary<string, string[]> errors)
        : base("validation_failed", "One or more fields are invalid: " + string.Join(", ", errors.Keys) + ".")
    {
        Errors = errors;
    }

    /// <summary>Creates the error for one field.</summary>
    public ValidationFailedException(string field, string message)
        : this(new Dictionary<string, string[]> { [field] = [message] })
    {
    }

    /// <summary>Field name (camelCase, dotted for nested fields) → messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }
}

/// <summary>The thing asked for does not exist, or the caller may not know that it exists.</summary>
public sealed class NotFoundException(string code, string message) : OpenMavnException(code, message);

/// <summary>The caller is known but may not do this (tenancy, role).</summary>
public sealed class ForbiddenException(string code, string message) : OpenMavnException(code, message);

/// <summary>The request is valid but the current state does not allow it (already redeemed, sold out, …).</summary>
public sealed class ConflictException(string code, string message, Exception? innerException = null)
    : OpenMavnException(code, message, innerException);

/// <summary>An idempotency key was reused with different content.</summary>
public sealed class IdempotencyConflictException(string message)
    : OpenMavnException("idempotency.key_reused", message);

/// <summary>A provider (payments, ledger, notifications) failed; <see cref="RetryAfter"/> is a hint when known.</summary>
public sealed class ProviderException : OpenMavnException
{
    /// <summary>Creates the error.</summary>
    public ProviderException(string provider, string message, bool transient, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base("provider.failed", $"{provider}: {message}", innerException)
    {
        Provider = provider;
        IsTransient = transient;
        RetryAfter = retryAfter;
    }

    /// <summary>The provider's name.</summary>
    public string Provider { get; }

    /// <summary>True when trying again later may succeed.</summary>
    public bool IsTransient { get; }

    /// <summary>How long the provider asked us to wait, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>Collects field errors and throws them together.</summary>
public sealed class Validator
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    /// <summary>True when no error was added.</summary>
    public bool IsValid => _errors.Count == 0;

    /// <summary>Adds an error for <paramref name="field"/> when <paramref name="failed"/>.</summary>
    public Validator Check(bool failed, string field, string message)
    {
        if (failed)
        {
            Add(field, message);
        }

        return this;
    }

    /// <summary>Adds an error.</summary>
    public Validator Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
        return this;
    }

    /// <summary>Throws a <see cref="ValidationFailedException"/> when any error was added.</summary>
    public void ThrowIfInvalid()
    {
        if (!IsValid)
        {
            throw new ValidationFailedException(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
        }
    }
}
