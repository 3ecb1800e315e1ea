using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using OpenMavn.Core;

namespace OpenMavn.AspNetCore.Http;

/// <summary>
/// Maps every error OpenMavn raises on purpose to an RFC 7807 problem response: 400 with the offending fields for bad
/// input (including malformed JSON, naming the JSON path), 403, 404, 409 for state conflicts, 422 for a reused
/// idempotency key, 502/503 when a provider fails. The problem carries the stable <c>code</c> of the error.
/// </summary>
internal sealed class OpenMavnExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, code, errors) = exception switch
        {
            ValidationFailedException v => (StatusCodes.Status400BadRequest, "The request is invalid.", v.Code, v.Errors),
            NotFoundException e => (StatusCodes.Status404NotFound, "Not found.", e.Code, null),
            ForbiddenException e => (StatusCodes.Status403Forbidden, "Forbidden.", e.Code, null),
            IdempotencyConflictException e => (StatusCodes.Status422UnprocessableEntity, "The idempotency key was used for another request.", e.Code, null),
            ConflictException e => (StatusCodes.Status409Conflict, "The request conflicts with the current state.", e.Code, null),
            ProviderException e => (e.IsTransient ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway, "A provider failed.", e.Code, null),
            OpenMavnException e => (StatusCodes.Status400BadRequest, "The request is invalid.", e.Code, null),
            BadHttpRequestException b => (b.StatusCode, "The request could not be read.", "request.malformed", JsonErrors(b) ?? MissingIdempotencyKey(httpContext)),
            _ => (0, "", "", (IReadOnlyDictionary<string, string[]>?)null),
        };
        if (status == 0)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        var problem = errors is null
            ? new ProblemDetails()
            : new HttpValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal));
        problem.Status = status;
        problem.Title = title;
        problem.Detail = exception is BadHttpRequestException ? BadRequestDetail(exception) : exception.Message;
        problem.Extensions["code"] = code;
        if (exception is ProviderException { RetryAfter: { } wait })
        {
            httpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static string BadRequestDetail(Exception exception) =>
        exception.InnerException is JsonException json
            ? $"The body is not valid JSON for this request{(json.Path is null ? "" : $" at {json.Path}")}."
            : exception.Message;

    private static Dictionary<string, string[]>? MissingIdempotencyKey(HttpContext context) =>
        // The exception handler clears the endpoint; the feature keeps the one that failed.
        context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<IdempotentEndpointMetadata>() is not null
            && !context.Request.Headers.ContainsKey(IdempotencyFilter.HeaderName)
            ? new Dictionary<string, string[]>(StringComparer.Ordinal) { [IdempotencyFilter.HeaderName] = ["An Idempotency-Key header of 1 to 128 printable characters is required."] }
            : null;

    private static Dictionary<string, string[]>? JsonErrors(BadHttpRequestException exception)
    {
        if (exception.InnerException is not JsonException { Path: { } path } json)
        {
            return null;
        }

        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        var message = json.Message.Split(" Path:", 2)[0];
        return new Dictionary<string, string[]>(StringComparer.Ordinal) { [field.Length == 0 ? "body" : field] = [message] };
    }
}
