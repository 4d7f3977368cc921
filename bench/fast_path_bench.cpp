// The executor's fast-path options, side by side with BM_WarmCall in the same run:
//   BM_WarmCallInto   the output goes straight into caller memory (KernelRequest::output_into),
//                     fresh and untouched for every call, as an Erlang binary would be: no
//                     zero-filled std::vector, one copy out of GPU memory (on several threads).
//   BM_WarmCallNoSpin the waiting thread sleeps at once (spin_wait = 0; the default polls for up
//                     to 100 µs on GPUs, so BM_WarmCall is the polling figure there).
#include <cstring>
#include <memory>

#include "bench_common.h"

namespace kem::bench {
namespace {

Executor& blocking_executor() {
  static auto created = [] {
    ExecutorOptions o = options();
    o.spin_wait = std::chrono::microseconds(0);
    return Executor::create(o);
  }();
  if (!created) {
    fprintf(stderr, "kem_bench: executor: %s\n", created.error().message.c_str());
    std::exit(1);
  }
  return **created;
}

// One call whose output lands in `memory` (allocated by the caller, as a NIF allocates its binary).
Result<size_t> call_into(Executor& executor, const KernelRequest& base, std::unique_ptr<uint8_t[]>& memory) {
  KernelRequest request = base;
  request.output_into = [&memory](uint64_t bytes) {
    memory.reset(new uint8_t[bytes]);  // uninitialised: pages are first touched by KEM's copy
    return memory.get();
  };
  auto out = submit_and_wait(executor, request);
  if (!out) return out.take_error();
  return out->size();
}

void BM_WarmCallInto(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  if (skip_if_over_limits(state, bytes)) return;
  KernelRequest request;
  request.source = double_integer();
  request.input = input_of(bytes);
  std::unique_ptr<uint8_t[]> memory;
  if (first_time("warm-into", bytes)) {
    auto out = call_into(warm_executor(), request, memory);
    if (!out) return state.SkipWithError(("warm-up: " + out.error().message).c_str());
    if (!doubled(memory.get(), *out)) return state.SkipWithError("wrong output");
  }
  for (auto _ : state) {
    auto out = call_into(warm_executor(), request, memory);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(memory.get());
    memory.reset();  // freed inside the timing, as the caller of a real call would
  }
  count_round_trip_bytes(state, bytes);
}

void BM_WarmCallNoSpin(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  if (skip_if_over_limits(state, bytes)) return;
  KernelRequest request;
  request.source = double_integer();
  request.input = input_of(bytes);
  request.unmetered = state.range(1) == 0;
  auto first = blocking_executor().run(request);
  if (!first) return state.SkipWithError(("warm-up: " + first.error().message).c_str());
  if (!doubled(first->data(), first->size())) return state.SkipWithError("wrong output");
  time_runs(state, blocking_executor(), request);
  count_round_trip_bytes(state, bytes);
}

void BM_WarmConcurrentNoSpin(benchmark::State& state) {
  const std::vector<uint8_t> input(4, 3);
  KernelRequest request;
  request.source = double_integer();
  request.input = input;
  if (!blocking_executor().run(request)) return state.SkipWithError("warm-up call failed");
  time_runs(state, blocking_executor(), request);
  state.counters["calls_per_second"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

const bool registered = [] {
  for (const Size& s : transfer_sizes(false)) {
    auto* b = benchmark::RegisterBenchmark("BM_WarmCallInto", BM_WarmCallInto)
                  ->Arg(s.bytes)->UseRealTime()->Unit(benchmark::kMicrosecond);
    if (s.iterations) b->Iterations(s.iterations);
    if (s.repetitions) b->Repetitions(s.repetitions);
  }
  // Args: bytes, metered (1) or not (0).
  benchmark::RegisterBenchmark("BM_WarmCallNoSpin", BM_WarmCallNoSpin)
      ->Args({4, 1})->Args({4, 0})->Args({4 << 10, 1})->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_WarmConcurrentNoSpin", BM_WarmConcurrentNoSpin)
      ->Threads(64)->UseRealTime()->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
}  // namespace kem::bench

namespace kem::bench {
namespace {

// Loop metering's cost in GPU time: 1M invocations of 65,536 rounds of integer arithmetic
// (several ms of kernel), 16 bytes in and 4 MiB out, so transfers are a small part of a call.
// Arg 0: the loop's trip count is a constant (charged once before the loop) or comes from the
// input (metered every iteration). Arg 1: 0 unmetered, 1 metered.
const char* kLoopHeavyGpu = R"(
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = id.x + id.y * n.x * 256u;
  if (i >= arrayLength(&output)) { return; }
  var x = i ^ input[1];
  for (var k = 0u; k < TRIPS; k++) { x = x * 1664525u + 1013904223u; x = x ^ (x >> 13u); }
  output[i] = x;
}
)";

void BM_LoopHeavyGpu(benchmark::State& state) {
  std::string source = kLoopHeavyGpu;
  source.replace(source.find("TRIPS"), 5, state.range(0) == 0 ? "65536u" : "input[0]");
  std::vector<uint8_t> input(16, 0);
  const uint32_t trips = 65536;
  std::memcpy(input.data(), &trips, 4);
  KernelRequest request;
  request.source = source;
  request.input = input;
  request.output_size = uint64_t(4) << 20;
  request.unmetered = state.range(1) == 0;
  auto first = warm_executor().run(request);
  if (!first) return state.SkipWithError(("warm-up: " + first.error().message).c_str());
  // The CPU reference for a few words.
  for (uint32_t i : {0u, 1u, 1048575u}) {
    uint32_t x = i, got;
    for (uint32_t k = 0; k < trips; ++k) x = x * 1664525u + 1013904223u, x ^= x >> 13;
    std::memcpy(&got, first->data() + 4 * i, 4);
    if (got != x) return state.SkipWithError("wrong output");
  }
  time_runs(state, warm_executor(), request);
}

// The reused-destination variant of BM_WarmCallInto: the caller's memory is allocated and
// touched once, so page faults of fresh memory are not part of the figure (as PyTorch's
// "pinned, buffers reused" row).
void BM_WarmCallIntoReused(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  if (skip_if_over_limits(state, bytes)) return;
  std::vector<uint8_t> destination(bytes, 0);
  KernelRequest request;
  request.source = double_integer();
  request.input = input_of(bytes);
  request.output_into = [&destination](uint64_t) { return destination.data(); };
  auto run_once = [&] { return submit_and_wait(warm_executor(), request); };
  if (auto first = run_once(); !first) return state.SkipWithError(first.error().message.c_str());
  if (!doubled(destination.data(), bytes)) return state.SkipWithError("wrong output");
  for (auto _ : state) {
    if (auto s = run_once(); !s) {
      state.SkipWithError(s.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(destination.data());
  }
  count_round_trip_bytes(state, bytes);
}

const bool registered_more = [] {
  benchmark::RegisterBenchmark("BM_LoopHeavyGpu", BM_LoopHeavyGpu)
      ->Args({0, 0})->Args({0, 1})->Args({1, 0})->Args({1, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
  for (const Size& s : transfer_sizes(false)) {
    if (s.bytes < (64 << 20)) continue;
    auto* b = benchmark::RegisterBenchmark("BM_WarmCallIntoReused", BM_WarmCallIntoReused)
                  ->Arg(s.bytes)->UseRealTime()->Unit(benchmark::kMicrosecond);
    if (s.iterations) b->Iterations(s.iterations);
    if (s.repetitions) b->Repetitions(s.repetitions);
  }
  return true;
}();

}  // namespace
}  // namespace kem::bench
