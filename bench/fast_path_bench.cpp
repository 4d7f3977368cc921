// The executor's fast-path options, side by side with BM_WarmCall in the same run:
//   BM_WarmCallInto   the output goes straight into caller memory (KernelRequest::output_into),
//                     fresh and untouched for every call, as an Erlang binary would be: no
//                     zero-filled std::vector, one copy out of GPU memory (on several threads).
//   BM_WarmCallSpin   the GPU thread polls for up to 100 µs before it sleeps (spin_wait).
#include <future>
#include <memory>

#include "bench_common.h"

namespace kem::bench {
namespace {

Executor& spinning_executor() {
  static auto created = [] {
    ExecutorOptions o = options();
    o.spin_wait = std::chrono::microseconds(100);
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
  std::promise<Result<size_t>> done;
  executor.submit(request, [&done](Result<OutputView> out) {
    if (out) done.set_value(out->size());
    else done.set_value(out.error());
  });
  return done.get_future().get();
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

void BM_WarmCallSpin(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  if (skip_if_over_limits(state, bytes)) return;
  KernelRequest request;
  request.source = double_integer();
  request.input = input_of(bytes);
  auto first = spinning_executor().run(request);
  if (!first) return state.SkipWithError(("warm-up: " + first.error().message).c_str());
  if (!doubled(first->data(), first->size())) return state.SkipWithError("wrong output");
  for (auto _ : state) {
    auto out = spinning_executor().run(request);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data());
  }
  count_round_trip_bytes(state, bytes);
}

void BM_WarmConcurrentSpin(benchmark::State& state) {
  const std::vector<uint8_t> input(4, 3);
  KernelRequest request;
  request.source = double_integer();
  request.input = input;
  if (!spinning_executor().run(request)) return state.SkipWithError("warm-up call failed");
  for (auto _ : state) {
    auto out = spinning_executor().run(request);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data());
  }
  state.counters["calls_per_second"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

const bool registered = [] {
  for (const Size& s : transfer_sizes(false)) {
    auto* b = benchmark::RegisterBenchmark("BM_WarmCallInto", BM_WarmCallInto)
                  ->Arg(s.bytes)->UseRealTime()->Unit(benchmark::kMicrosecond);
    if (s.iterations) b->Iterations(s.iterations);
    if (s.repetitions) b->Repetitions(s.repetitions);
  }
  benchmark::RegisterBenchmark("BM_WarmCallSpin", BM_WarmCallSpin)
      ->Arg(4)->Arg(4 << 10)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_WarmConcurrentSpin", BM_WarmConcurrentSpin)
      ->Threads(64)->UseRealTime()->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
}  // namespace kem::bench
