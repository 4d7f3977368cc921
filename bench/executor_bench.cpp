// Executor benchmarks: warm calls through the C++ API, from 4 bytes up, and the cost of a cold
// executor (instance + adapter + device), which the proof of concept paid on every call.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "kem/executor.h"

namespace {

std::string double_integer() {
  std::ifstream file(std::string(KEM_SOURCE_DIR) + "/kernels/double-integer.wgsl");
  if (!file) file.open("kernels/double-integer.wgsl");  // run from a carried tree
  std::stringstream s;
  s << file.rdbuf();
  return s.str();
}

kem::Executor& executor() {
  static auto created = kem::Executor::create();
  if (!created) {
    fprintf(stderr, "executor: %s\n", created.error().message.c_str());
    std::exit(1);
  }
  return **created;
}

// Times warm calls of `request` (after one warm-up call) in the benchmark loop.
void time_calls(benchmark::State& state, const kem::KernelRequest& request) {
  if (!executor().run(request)) state.SkipWithError("warm-up call failed");
  for (auto _ : state) {
    auto out = executor().run(request);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data());
  }
}

void BM_WarmCall(benchmark::State& state) {
  const std::string source = double_integer();
  std::vector<uint8_t> input(static_cast<size_t>(state.range(0)), 3);
  kem::KernelRequest request;
  request.source = source;
  request.input = input;
  time_calls(state, request);
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0) * 2);  // up + down
}
BENCHMARK(BM_WarmCall)->Arg(4)->Arg(4096)->Arg(1 << 20)->Arg(64 << 20)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_ColdExecutorAndCall(benchmark::State& state) {
  const std::string source = double_integer();
  std::vector<uint8_t> input{1, 3, 5, 7};
  for (auto _ : state) {
    auto created = kem::Executor::create();
    if (!created) {
      state.SkipWithError(created.error().message.c_str());
      break;
    }
    kem::KernelRequest request;
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
  kem::KernelRequest request;
  request.source = source;
  request.input = input;
  request.unmetered = state.range(0) == 0;
  time_calls(state, request);
}
BENCHMARK(BM_LoopHeavy)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
