// kem_pool_bench: what a second GPU buys (issue 8). Calls/s of a compute-bound kernel with 64
// concurrent callers on a pool of 1 and of 2 devices, and the latency of a tiny call on each.
//
// Devices: "@0", "@1", ... (Dawn's enumeration: on a 2-GPU machine, the two GPUs, identical or
// not). KEM_POOL_BENCH_ADAPTER=SEL opens every device on SEL instead (e.g. "@0" twice on a
// machine with one GPU or lavapipe, to try the bench). KEM_POOL_BENCH_ITERS sets the spin
// kernel's iterations per invocation (default 65536: about 10^9 steps per call).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "kem/executor_pool.h"

namespace {

// Each invocation runs `input[0]` steps of an LCG; no memory traffic to speak of.
const char* kSpin =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  var x = id.x;\n"
    "  for (var i = 0u; i < input[0]; i++) { x = x * 1664525u + 1013904223u; }\n"
    "  if (id.x < arrayLength(&output)) { output[id.x] = x; }\n"
    "}\n";

std::string double_integer() {
  std::ifstream file(std::string(KEM_SOURCE_DIR) + "/kernels/double-integer.wgsl");
  std::stringstream s;
  s << file.rdbuf();
  return s.str();
}

uint32_t spin_iterations() {
  const char* env = std::getenv("KEM_POOL_BENCH_ITERS");
  return env && *env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : 65536u;
}

// One pool per device count, made once and kept until main() releases them. Not left to static
// destruction: the map would be destroyed after the Vulkan driver it outlived (it was made
// before the driver was loaded), and the process crashed at exit on the H200.
std::mutex pools_mutex;
std::map<size_t, std::unique_ptr<kem::ExecutorPool>> pools;

kem::ExecutorPool* pool_of(size_t devices, std::string& error) {
  std::lock_guard lock(pools_mutex);
  if (auto it = pools.find(devices); it != pools.end()) return it->second.get();
  kem::ExecutorPoolOptions options;
  const char* same = std::getenv("KEM_POOL_BENCH_ADAPTER");
  for (size_t i = 0; i < devices; ++i) options.adapters.push_back(same ? same : "@" + std::to_string(i));
  options.executor.metering = false;  // the kernel is ours; measure the GPUs, not the meter
  auto pool = kem::ExecutorPool::create(options);
  if (!pool) {
    error = pool.error().message;
    return nullptr;
  }
  return (pools[devices] = std::move(pool).value()).get();
}

void report_devices(benchmark::State& state, kem::ExecutorPool& pool) {
  auto s = pool.stats();
  for (size_t i = 0; i < s.devices.size(); ++i)
    state.counters["dev" + std::to_string(i) + "_calls"] = static_cast<double>(s.devices[i].executor.calls);
  state.counters["retries"] = static_cast<double>(s.retries);
}

// 64 callers (benchmark threads), each running one compute-bound call after another.
void BM_PoolComputeBound(benchmark::State& state) {
  static kem::ExecutorPool* pool = nullptr;
  static std::string error;
  if (state.thread_index() == 0) pool = pool_of(static_cast<size_t>(state.range(0)), error);
  std::vector<uint32_t> words(16384, 0);  // 16,384 invocations
  words[0] = spin_iterations();
  std::vector<uint8_t> input(words.size() * 4);
  std::memcpy(input.data(), words.data(), input.size());
  kem::KernelRequest request;
  request.source = kSpin;
  request.input = input;
  request.timeout = std::chrono::minutes(5);
  for (auto _ : state) {
    if (!pool) {
      state.SkipWithError(("pool: " + error).c_str());
      break;
    }
    auto out = pool->run(request);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());  // calls; summed over the callers
  if (state.thread_index() == 0 && pool) report_devices(state, *pool);
}
BENCHMARK(BM_PoolComputeBound)->ArgName("devices")->Arg(1)->Arg(2)->Threads(64)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One caller, one 4-byte call at a time: the pool's overhead on the latency of a tiny call.
void BM_PoolTinyCall(benchmark::State& state) {
  std::string error;
  kem::ExecutorPool* pool = pool_of(static_cast<size_t>(state.range(0)), error);
  if (!pool) {
    state.SkipWithError(("pool: " + error).c_str());
    return;
  }
  static const std::string source = double_integer();
  std::vector<uint8_t> input{1, 3, 5, 7};
  kem::KernelRequest request;
  request.source = source;
  request.input = input;
  for (auto _ : state) {
    auto out = pool->run(request);
    if (!out || (*out)[0] != 2) {
      state.SkipWithError(out ? "wrong result" : out.error().message.c_str());
      break;
    }
  }
  report_devices(state, *pool);
}
BENCHMARK(BM_PoolTinyCall)->ArgName("devices")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  pools.clear();
  return 0;
}
