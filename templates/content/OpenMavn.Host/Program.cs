// An OpenMavn host: the customer, merchant, admin and integration APIs and the payment webhooks over one database.
// Every option is listed in appsettings.json; Development seeds a demo and serves the API reference at /scalar/v1.
using OpenMavn;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

#if (UsePayrexxPayments)
var openMavn = builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn"))
#else
builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn"))
#endif
#if (UseSqlServer)
    .AddSqlServerStorage()      // SQL Server at OpenMavn:Storage:ConnectionString; several hosts may share it
#else
    .AddSqliteStorage()         // a SQLite file (OpenMavn:Storage:ConnectionString)
#endif
#if (UseSandboxPayments)
    .AddSandboxPayments()       // moves no money; refused in Production unless OpenMavn:Payments:Sandbox:AllowInProduction
#elif (UsePayrexxPayments)
    .AddPayrexxPayments()       // each merchant connects its own Payrexx instance (OpenMavn:Payments:Payrexx)
#endif
#if (UseDatabaseLedger)
    .AddDatabaseLedger()        // a hash-chained ledger of every voucher event, in the same database
#elif (UseEthereumLedger)
    .AddEthereumLedger()        // every voucher mirrored on an EVM chain (OpenMavn:Ledger:Ethereum; the operator key from secrets)
#endif
#if (UseSendGridFirebase)
    .AddSendGridEmail()         // email over SendGrid (OpenMavn:Notifications:SendGrid; the API key from secrets)
    .AddFirebasePush()          // push over FCM HTTP v1 (OpenMavn:Notifications:Firebase; the service-account key from secrets)
#endif
    .AddOpenMavnApis();         // the HTTP APIs, sign-in, OpenAPI, health checks (and the demo in Development)

#if (UsePayrexxPayments)
if (builder.Environment.IsDevelopment())
{
    openMavn.AddSandboxPayments(); // the demo and local trials pay on the sandbox page; merchants choose Payrexx
}

#endif
var app = builder.Build();

if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference(); // the API reference at /scalar/v1, over /openapi/v1.json
}

app.MapOpenMavnApis();
app.Run();

// Public so integration tests can use WebApplicationFactory<Program>.
public partial class Program;
