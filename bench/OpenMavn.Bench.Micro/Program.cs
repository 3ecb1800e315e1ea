// OpenMavn micro-benchmarks (BenchmarkDotNet). See bench/README.md, section "Micro-benchmarks".
//   dotnet run -c Release --project bench/OpenMavn.Bench.Micro -- --filter '*'
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(OpenMavn.Bench.Micro.VoucherCodeBenchmarks).Assembly).Run(args);
