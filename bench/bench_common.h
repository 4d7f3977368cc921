// What every peer of the benchmark shares: the kernels, the sizes and their iteration counts,
// the adapter's limits (sizes past them are skipped), and the counters the report reads.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kem/executor.h"

namespace kem::bench {

// kernels/double-integer.wgsl: u32 x 2, output as long as the input.
const std::string& double_integer();

// The compute-bound kernel: per invocation, `fma_iterations()` rounds of four independent f32
// FMA chains (8 flops each round) on one input word; 1M invocations (4 MiB in, 4 MiB out).
// bench/torch_peer.py runs the same loop through a jiterator kernel.
const std::string& fma_kernel();
uint32_t fma_iterations();  // KEM_BENCH_FMA_ITERATIONS, default 16384
constexpr uint64_t kFmaInvocations = 1u << 20;
double fma_flops_per_call();
std::vector<uint8_t> fma_input();  // f32 values in [0, 1)

// The transfer sizes: 4 B, 4 KiB, 1 MiB, 64 MiB, 256 MiB, 1 GiB.
struct Size {
  int64_t bytes;
  int64_t iterations;   // 0: Google Benchmark picks (min time); big sizes are fixed, and slow
  int repetitions;      // 0: --benchmark_repetitions
};
std::vector<Size> transfer_sizes(bool slow_peer);

// The executor options every KEM peer uses: input and output up to 1 GiB.
ExecutorOptions options();

// The adapter's limits (the one KEM_ADAPTER selects), read once through KEM's WebGPU layer.
struct Limits {
  uint64_t max_storage_binding = 0;
  uint64_t max_buffer = 0;
};
const Limits& adapter_limits();

// Skips the benchmark (SkipWithError, with the limit's name) when `bytes` cannot be bound on
// this adapter. Returns true when skipped.
bool skip_if_over_limits(benchmark::State& state, uint64_t bytes);

// Input bytes all 3, so every output byte is 6; checks that (whole buffer) once per size.
bool doubled(const uint8_t* out, size_t bytes);

// bytes_per_second counts input + output (a round trip moves the bytes both ways).
void count_round_trip_bytes(benchmark::State& state, uint64_t bytes);

// A host input of `bytes` bytes, all 3, allocated and touched once per size (outside timing).
const std::vector<uint8_t>& input_of(uint64_t bytes);

// True the first time a peer asks for a size: that call warms up (buffers grow) and checks.
bool first_time(const std::string& peer, uint64_t bytes);

// The long-lived executor of the "KEM warm" peer (options() above).
Executor& warm_executor();

// The timing loop of every `Executor::run` benchmark: one call per iteration, stopping with
// the call's error if one fails.
void time_runs(benchmark::State& state, Executor& executor, const KernelRequest& request);

// One call through Executor::submit (the NIF's path), waited for. The request must set
// output_into: the span returned points into that memory (a view into mapped GPU memory
// would be gone by the time this returns).
Result<std::span<const uint8_t>> submit_and_wait(Executor& executor, const KernelRequest& request);

// Registers `fn` once per transfer size (Arg = bytes), with the sizes' iteration counts.
void register_sizes(const char* name, void (*fn)(benchmark::State&), bool slow_peer);

// Each peer's file registers its benchmarks; bench_main.cpp calls these in report order.
void register_poc_design();
void register_kem_warm();
void register_raw_dawn();
void register_concurrency();
void register_compute();
void register_kernel_shapes();  // issue 18: kernel-only speed of WGSL variants
void register_transfer_sweep();  // run only when named (bench/run-on-gpu.sh group staged-sweep)
void release_transfer_sweep();   // before exit

}  // namespace kem::bench
