using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Identity;

namespace OpenMavn.AspNetCore.Http;

/// <summary>Creates the Admin role and, when configured, the first platform operator at start-up (idempotent).</summary>
internal sealed class AdminBootstrapper(IServiceProvider services, IOptions<OpenMavnApiOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole<Guid>>>();
        if (!await roles.RoleExistsAsync(OpenMavnRoles.Admin))
        {
            await roles.CreateAsync(new IdentityRole<Guid>(OpenMavnRoles.Admin));
        }

        if (options.Value.AdminEmail is not { } email || options.Value.AdminPassword is not { } password)
        {
            return;
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<OpenMavnUser>>();
        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            user = new OpenMavnUser { Id = Guid.CreateVersion7(), UserName = email, Email = email, EmailConfirmed = true };
            var created = await users.CreateAsync(user, password);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException("The configured operator could not be created: " + string.Join(" ", created.Errors.Select(e => e.Description)));
            }
        }

        if (!await users.IsInRoleAsync(user, OpenMavnRoles.Admin))
        {
            await users.AddToRoleAsync(user, OpenMavnRoles.Admin);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
