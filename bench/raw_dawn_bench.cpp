// (d) A raw Dawn loop, everything reused, one submission per call: the floor for KEM's API.
// Also the same dispatch on device-resident buffers (no transfer): the kernel's own speed,
// against the device memory ceiling.
#include "bench_common.h"
#include "raw_dawn.h"

namespace kem::bench {
namespace {

RawDawn* raw_double_integer(benchmark::State& state) {
  static auto created = RawDawn::create(double_integer());
  if (!created) {
    state.SkipWithError(("raw Dawn: " + created.error().message).c_str());
    return nullptr;
  }
  return created->get();
}

// The raw loop for `bytes`, prepared, warmed up and checked the first time.
RawDawn* prepared(benchmark::State& state, uint64_t bytes, std::vector<uint8_t>& output) {
  if (skip_if_over_limits(state, bytes)) return nullptr;
  RawDawn* raw = raw_double_integer(state);
  if (!raw) return nullptr;
  if (auto s = raw->prepare(bytes); !s) {
    state.SkipWithError(s.error().message.c_str());
    return nullptr;
  }
  output.resize(bytes);
  if (first_time("raw", bytes)) {
    if (auto s = raw->round_trip(input_of(bytes), output.data()); !s) {
      state.SkipWithError(("warm-up: " + s.error().message).c_str());
      return nullptr;
    }
    if (!doubled(output.data(), bytes)) {
      state.SkipWithError("wrong output");
      return nullptr;
    }
  }
  return raw;
}

void BM_RawDawn(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  std::vector<uint8_t> output;
  RawDawn* raw = prepared(state, bytes, output);
  if (!raw) return;
  const auto& input = input_of(bytes);
  for (auto _ : state) {
    if (auto s = raw->round_trip(input, output.data()); !s) {
      state.SkipWithError(s.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(output.data());
  }
  count_round_trip_bytes(state, bytes);
}

void BM_RawDawnKernelOnly(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  std::vector<uint8_t> output;
  RawDawn* raw = prepared(state, bytes, output);
  if (!raw) return;
  for (auto _ : state) {
    if (auto s = raw->dispatch_only(); !s) {
      state.SkipWithError(s.error().message.c_str());
      break;
    }
  }
  count_round_trip_bytes(state, bytes);  // here: bytes read + written in device memory
}

// The tiny call's floor: 4 bytes, polling or blocking, with or without KEM's output clear.
void BM_RawDawnTiny(benchmark::State& state) {
  const uint64_t bytes = 4;
  std::vector<uint8_t> output;
  RawDawn* raw = prepared(state, bytes, output);
  if (!raw) return;
  RawDawn::Variant variant;
  variant.spin = state.range(0) ? std::chrono::microseconds(100) : std::chrono::microseconds(0);
  variant.clear_output = state.range(1) != 0;
  const auto& input = input_of(bytes);
  for (auto _ : state) {
    if (auto s = raw->round_trip(input, output.data(), variant); !s) {
      state.SkipWithError(s.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(output.data());
  }
  if (!doubled(output.data(), bytes)) state.SkipWithError("wrong output");
}

}  // namespace

void register_raw_dawn() {
  benchmark::RegisterBenchmark("BM_RawDawnTiny", BM_RawDawnTiny)
      ->ArgNames({"poll", "clear"})->Args({0, 0})->Args({1, 0})->Args({1, 1})
      ->UseRealTime()->Unit(benchmark::kMicrosecond);
  register_sizes("BM_RawDawn", BM_RawDawn, false);
  // Device-resident dispatches are fast at every size: Google Benchmark picks the counts.
  for (const Size& s : transfer_sizes(false))
    benchmark::RegisterBenchmark("BM_RawDawnKernelOnly", BM_RawDawnKernelOnly)
        ->Arg(s.bytes)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace kem::bench
