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

    /// <summary>Changes language and notification preferences (receipts cannot be switched off).</summary>
    public async Task<Customer> UpdatePreferencesAsync(Actor actor, string? language, bool? expiryReminders, string? displayName = null, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        new Validator()
            .Check(language is not null && !Languages.IsValid(language), "language", "A two-letter language code is required.")
            .Check(displayName is { Length: > 200 }, "displayName", "At most 200 characters.")
            .ThrowIfInvalid();
        return await db.InTransactionAsync(
            async ct =>
            {
                var customer = await db.Customers.FirstOrDefaultAsync(c => c.Id == actor.Id, ct)
                    ?? throw new NotFoundException("customer.not_found", "No such customer.");
                customer.Language = language is null ? customer.Language : Languages.Normalize(language);
                customer.ExpiryReminders = expiryReminders ?? customer.ExpiryReminders;
                customer.DisplayName = displayName?.Trim() ?? customer.DisplayName;
                return customer;
            },
            cancellationToken);
    }

    /// <summary>Registers a push device for the customer; a token moves to the customer who registered it last.</summary>
    public async Task<CustomerDevice> RegisterDeviceAsync(Actor actor, string token, string platform, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        new Validator()
            .Check(string.IsNullOrWhiteSpace(token) || token.Length > 512 || token.Any(char.IsControl), "token", "A device token of 1 to 512 printable characters is required.")
            .Check(platform is not ("ios" or "android" or "web"), "platform", "One of ios, android, web.")
            .ThrowIfInvalid();
        return await db.InTransactionAsync(
            async ct =>
            {
                var device = await db.CustomerDevices.FirstOrDefaultAsync(d => d.Token == token, ct);
                if (device is null)
                {
                    device = new CustomerDevice { Id = Guid.CreateVersion7(time.GetUtcNow()), Token = token };
                    db.CustomerDevices.Add(device);
                }

                device.CustomerId = actor.Id;
                device.Platform = platform;
                device.CreatedAt = time.GetUtcNow();
                return device;
            },
            cancellationToken);
    }

    /// <summary>Removes one of the customer's devices.</summary>
    public async Task RemoveDeviceAsync(Actor actor, Guid deviceId, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        if (await db.CustomerDevices.Where(d => d.Id == deviceId && d.CustomerId == actor.Id).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            throw new NotFoundException("device.not_found", "No such device.");
        }
    }

    /// <summary>The customer's devices.</summary>
    public async Task<IReadOnlyList<CustomerDevice>> ListDevicesAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        RequireCustomer(actor);
        return await db.CustomerDevices.AsNoTracking().Where(d => d.CustomerId == actor.Id).OrderBy(d => d.CreatedAt).ToListAsync(cancellationToken);
    }

    private static void RequireCustomer(Actor actor)
    {
        if (actor.Kind != ActorKind.Customer)
        {
            throw new ForbiddenException("customer.only", "Only customers have preferences and devices.");
        }
    }

    /// <summary>Reads a customer.</summary>
    public async Task<Customer> GetAsync(Guid userId, CancellationToken cancellationToken = default) =>
        await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == userId, cancellationToken)
            ?? throw new NotFoundException("customer.not_found", "No such customer.");
}
