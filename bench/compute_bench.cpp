// A compute-bound kernel (bench_common.h: fma_kernel), 1M invocations, 4 MiB in and out,
// through KEM warm (unmetered: only loop metering's absence makes it the same kernel as the
// others run) and through the raw Dawn loop. flops counts 8 per FMA round per invocation.
#include <cmath>
#include <cstring>

#include "bench_common.h"
#include "raw_dawn.h"

namespace kem::bench {
namespace {

const std::vector<uint8_t>& fma_in() {
  static const std::vector<uint8_t> input = fma_input();
  return input;
}

bool plausible(const uint8_t* out) {
  float first = 0;
  std::memcpy(&first, out, 4);  // x = 0: four chains converging to 1 from 0, 1, 2, 3
  return std::isfinite(first) && first > 0.0f && first < 7.0f;
}

void count_flops(benchmark::State& state) {
  state.counters["flops"] =
      benchmark::Counter(double(state.iterations()) * fma_flops_per_call(), benchmark::Counter::kIsRate);
  state.counters["fma_iterations"] = fma_iterations();
}

void BM_ComputeWarm(benchmark::State& state) {
  KernelRequest request;
  request.source = fma_kernel();
  request.input = fma_in();
  request.unmetered = true;
  auto warm = warm_executor().run(request);
  if (!warm) return state.SkipWithError(("warm-up: " + warm.error().message).c_str());
  if (!plausible(warm->data())) return state.SkipWithError("implausible output");
  time_runs(state, warm_executor(), request);
  count_flops(state);
}

void BM_ComputeRawDawn(benchmark::State& state) {
  static auto created = RawDawn::create(fma_kernel());
  if (!created) return state.SkipWithError(("raw Dawn: " + created.error().message).c_str());
  RawDawn& raw = **created;
  const auto& input = fma_in();
  std::vector<uint8_t> output(input.size());
  if (auto s = raw.prepare(input.size()); !s) return state.SkipWithError(s.error().message.c_str());
  if (auto s = raw.round_trip(input, output.data()); !s)
    return state.SkipWithError(("warm-up: " + s.error().message).c_str());
  if (!plausible(output.data())) return state.SkipWithError("implausible output");
  for (auto _ : state) {
    if (auto s = raw.round_trip(input, output.data()); !s) {
      state.SkipWithError(s.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(output.data());
  }
  count_flops(state);
}

}  // namespace

void register_compute() {
  benchmark::RegisterBenchmark("BM_ComputeWarm", BM_ComputeWarm)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_ComputeRawDawn", BM_ComputeRawDawn)->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace kem::bench
