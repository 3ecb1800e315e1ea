// An OpenMavn host: the customer, merchant, admin and integration APIs and the payment webhooks over one database.
// Every option is listed in appsettings.json; Development seeds a demo and serves the API reference at /scalar/v1.
using OpenMavn;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn"))
    .AddSqliteStorage()         // a SQLite file (OpenMavn:Storage:ConnectionString)
    .AddSandboxPayments()       // moves no money; refused in Production unless OpenMavn:Payments:Sandbox:AllowInProduction
    .AddDatabaseLedger()        // a hash-chained ledger of every voucher event, in the same database
    .AddOpenMavnApis();         // the HTTP APIs, sign-in, OpenAPI, health checks (and the demo in Development)

var app = builder.Build();

if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference(); // the API reference at /scalar/v1, over /openapi/v1.json
}

app.MapOpenMavnApis();
app.Run();

// Public so integration tests can use WebApplicationFactory<Program>.
public partial class Program;
