using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Customers;

/// <summary>Customer profiles, keyed by the identity system's user id.</summary>
public sealed class CustomerService(OpenMavnDbContext db, TimeProvider time)
{
    /// <summary>Creates or updates the customer profile of a user (idempotent).</summary>
    public async Task<Customer> RegisterAsync(Guid userId, string email, string? displayName, string language, CancellationToken cancellationToken = default)
    {
        new Validator()
            .Check(userId == Guid.Empty, "userId", "A user id is required.")
            .Check(!MerchantService.IsEmail(email), "email", "A valid email address is required.")
            .Check(displayName is { Length: > 200 }, "displayName", "At most 200 characters.")
            .Check(!Languages.IsValid(language), "language", "A two-letter language code is required.")
            .ThrowIfInvalid();
        var normalized = MerchantService.NormalizeEmail(email);
        return await db.InTransactionAsync(
            async ct =>
            {
                if (await db.Customers.AnyAsync(c => c.Email == normalized && c.Id != userId, ct))
                {
                    throw new ConflictException("customer.email_taken", "Another customer uses this email address.");
                }

                var customer = await db.Customers.FirstOrDefaultAsync(c => c.Id == userId, ct);
                if (customer is null)
                {
                    customer = new Customer { Id = userId, CreatedAt = time.GetUtcNow() };
                    db.Customers.Add(customer);
                }

                customer.Email = normalized;
                customer.DisplayName = displayName?.Trim();
                customer.Language = Languages.Normalize(language);
                return customer;
            },
            cancellationToken);
    }

    /// <summary>Reads a customer.</summary>
    public async Task<Customer> GetAsync(Guid userId, CancellationToken cancellationToken = default) =>
        await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == userId, cancellationToken)
            ?? throw new NotFoundException("customer.not_found", "No such customer.");
}
