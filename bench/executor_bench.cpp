// KEM warm: Executor::run on a long-lived executor (device, pipeline and buffers reused), from
// 4 bytes to 1 GiB; the cost of a cold executor; and the loop-metering pair BM_LoopHeavy.
#include "bench_common.h"

namespace kem::bench {
namespace {

// Times warm calls of `request` (after one warm-up call) in the benchmark loop.
void time_calls(benchmark::State& state, const KernelRequest& request) {
  if (!warm_executor().run(request)) state.SkipWithError("warm-up call failed");
  time_runs(state, warm_executor(), request);
}

void BM_WarmCall(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  if (skip_if_over_limits(state, bytes)) return;
  KernelRequest request;
  request.source = double_integer();
  request.input = input_of(bytes);
  if (first_time("warm", bytes)) {
    auto out = warm_executor().run(request);
    if (!out) return state.SkipWithError(("warm-up: " + out.error().message).c_str());
    if (!doubled(out->data(), out->size())) return state.SkipWithError("wrong output");
  }
  time_runs(state, warm_executor(), request);
  count_round_trip_bytes(state, bytes);
}

void BM_ColdExecutorAndCall(benchmark::State& state) {
  const std::string source = double_integer();
  std::vector<uint8_t> input{1, 3, 5, 7};
  for (auto _ : state) {
    auto created = Executor::create();
    if (!created) {
      state.SkipWithError(created.error().message.c_str());
      break;
    }
    KernelRequest request;
    request.source = source;
    request.input = input;
    benchmark::DoNotOptimize((*created)->run(request));
  }
}
BENCHMARK(BM_ColdExecutorAndCall)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

// Loop-heavy kernel (1,000 iterations of integer arithmetic per invocation, 1M invocations):
// the cost of loop metering. Arg 0: unmetered, 1: metered.
const char* kLoopHeavy = R"(
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = id.x + id.y * n.x * 256u;
  if (i >= arrayLength(&output)) { return; }
  var x = input[i];
  for (var k = 0u; k < 1000u; k++) { x = x * 1664525u + 1013904223u; x = x ^ (x >> 13u); }
  output[i] = x;
}
)";

void BM_LoopHeavy(benchmark::State& state) {
  const std::string source = kLoopHeavy;
  std::vector<uint8_t> input(size_t(4) << 20, 1);
  KernelRequest request;
  request.source = source;
  request.input = input;
  request.unmetered = state.range(0) == 0;
  time_calls(state, request);
}
BENCHMARK(BM_LoopHeavy)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

void register_kem_warm() { register_sizes("BM_WarmCall", BM_WarmCall, false); }

}  // namespace kem::bench
