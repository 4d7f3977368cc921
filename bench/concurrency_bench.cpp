// Concurrent callers: 1, 8 and 64 threads making 4-byte calls through one warm executor
// (Executor::run, each thread its own input). calls_per_second counts every thread's calls.
#include "bench_common.h"

namespace kem::bench {
namespace {

void BM_WarmConcurrent(benchmark::State& state) {
  const std::vector<uint8_t> input(4, 3);
  KernelRequest request;
  request.source = double_integer();
  request.input = input;
  // Outside the timed loop (which starts for all threads together): compiles the kernel once.
  if (!warm_executor().run(request)) return state.SkipWithError("warm-up call failed");
  time_runs(state, warm_executor(), request);
  state.counters["calls_per_second"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

void register_concurrency() {
  benchmark::RegisterBenchmark("BM_WarmConcurrent", BM_WarmConcurrent)
      ->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace kem::bench
