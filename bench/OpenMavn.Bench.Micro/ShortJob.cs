using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace OpenMavn.Bench.Micro;

/// <summary>
/// A short job (1 launch, 3 warm-up and 8 measured iterations) so that the whole suite runs in a few minutes on a
/// 2-core machine; BenchmarkDotNet's default job runs 15–100 iterations. Error bars are wider accordingly.
/// </summary>
public sealed class ShortConfig : ManualConfig
{
    public ShortConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8).WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
