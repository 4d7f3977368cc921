// Where a large call's time goes, and which staging settings suit the machine: KEM's staged
// path (ExecutorOptions::staging_*) one direction at a time and both, over chunk sizes, chunks
// in flight and copy threads. Each setting runs on its own executor (made outside the timing).
//   BM_StagedSweep/dir:D/chunk_mib:C/slots:S/threads:T/memory:M
//     D  0 upload only (N bytes in, 4 out), 1 download only (4 in, N out), 2 round trip
//        (double-integer, N in and N out)
//     M  where the output lands (output_into): 0 caller memory reused across calls, 1 fresh
//        memory per call (as a NIF's new binary), 2 fresh and 2 MiB-aligned with
//        madvise(MADV_HUGEPAGE) by the caller
// N is KEM_BENCH_SWEEP_BYTES (default 1 GiB). bytes_per_second counts the bytes moved
// (N one way, 2N for the round trip).
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "bench_common.h"

namespace kem::bench {
namespace {

const char* const kUploadOnly = R"(
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(1)
fn main() { output[0] = input[0] + input[arrayLength(&input) - 1u]; }
)";

const char* const kDownloadOnly = R"(
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i < arrayLength(&output)) { output[i] = input[0] + i; }
}
)";

uint64_t sweep_bytes() {
  const char* env = std::getenv("KEM_BENCH_SWEEP_BYTES");
  return env ? std::strtoull(env, nullptr, 10) / 4 * 4 : (1ull << 30);
}

// One executor at a time, kept while consecutive benchmarks (repetitions) ask for the same
// setting; released by release_transfer_sweep() before exit. As a static made before the first
// executor it would be destroyed after the Vulkan driver (loaded later), and the process
// crashed at exit on the H200.
std::unique_ptr<Executor> current;
std::tuple<uint64_t, size_t, size_t> setting{};

Executor* executor_for(benchmark::State& state, uint64_t chunk, size_t slots, size_t threads) {
  if (current && setting == std::make_tuple(chunk, slots, threads)) return current.get();
  current.reset();
  ExecutorOptions o = options();
  o.staging_chunk_bytes = chunk;
  o.staging_slots = slots;
  o.staging_copy_threads = threads;
  auto created = Executor::create(o);
  if (!created) {
    state.SkipWithError(("executor: " + created.error().message).c_str());
    return nullptr;
  }
  current = std::move(created).value();
  setting = {chunk, slots, threads};
  return current.get();
}

struct FreeAligned {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Memory = std::unique_ptr<uint8_t, FreeAligned>;

Memory allocate(uint64_t bytes, int mode) {
  if (mode != 2) return Memory(static_cast<uint8_t*>(std::malloc(bytes)));
  const uint64_t huge = 2u << 20;
  Memory memory(static_cast<uint8_t*>(std::aligned_alloc(huge, (bytes + huge - 1) / huge * huge)));
  if (memory) madvise(memory.get(), (bytes + huge - 1) / huge * huge, MADV_HUGEPAGE);
  return memory;
}

// The exact output of each direction, checked on the first call of each setting.
bool output_ok(int direction, const uint8_t* out, uint64_t bytes, const std::vector<uint8_t>& input) {
  if (direction == 0) {
    uint32_t first, last, got;
    std::memcpy(&first, input.data(), 4);
    std::memcpy(&last, input.data() + input.size() - 4, 4);
    std::memcpy(&got, out, 4);
    return got == first + last;
  }
  if (direction == 1) {
    uint32_t base;
    std::memcpy(&base, input.data(), 4);
    for (uint64_t i = 0; i < bytes / 4; ++i) {
      uint32_t word;
      std::memcpy(&word, out + 4 * i, 4);
      if (word != base + uint32_t(i)) return false;
    }
    return true;
  }
  return doubled(out, bytes);
}

void BM_StagedSweep(benchmark::State& state) {
  const int direction = int(state.range(0));
  const uint64_t chunk = uint64_t(state.range(1)) << 20;
  const int mode = int(state.range(4));
  const uint64_t bytes = sweep_bytes();
  if (skip_if_over_limits(state, bytes)) return;
  Executor* executor = executor_for(state, chunk, size_t(state.range(2)), size_t(state.range(3)));
  if (!executor) return;

  KernelRequest request;
  const std::vector<uint8_t>& big = input_of(bytes);
  static const std::vector<uint8_t> small = {3, 0, 0, 0};
  uint64_t out_bytes = bytes;
  if (direction == 0) {
    request.source = kUploadOnly;
    request.input = big;
    request.output_size = out_bytes = 4;
    request.workgroups = std::array<uint32_t, 3>{1, 1, 1};
  } else if (direction == 1) {
    request.source = kDownloadOnly;
    request.input = small;
    request.output_size = bytes;
  } else {
    request.source = double_integer();
    request.input = big;
  }
  const std::vector<uint8_t>& input = direction == 1 ? small : big;

  // Touched once for the whole sweep (allocating and faulting 1 GiB costs more than a call).
  static Memory reused = [&] {
    Memory m = allocate(bytes, 0);
    if (m) std::memset(m.get(), 0, bytes);
    return m;
  }();
  Memory fresh;
  request.output_into = [&](uint64_t n) -> uint8_t* {
    if (mode == 0) return n <= bytes ? reused.get() : nullptr;
    fresh = allocate(n, mode);
    return fresh.get();
  };
  // Through submit(), as the NIF calls: run() would put the output in its own vector.
  auto call = [&] { return submit_and_wait(*executor, request); };
  auto check = call();  // warms up (buffers grow) and checks, untimed
  if (!check) return state.SkipWithError(("first call: " + check.error().message).c_str());
  if (!output_ok(direction, check->data(), out_bytes, input)) return state.SkipWithError("wrong output");
  fresh.reset();

  for (auto _ : state) {
    auto out = call();
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data());
    fresh.reset();  // freed inside the timing, as a caller's would be
  }
  const uint64_t moved = direction == 2 ? 2 * bytes : bytes;
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(moved));
}

struct Setting {
  int chunk_mib, slots, threads;
};

}  // namespace

void release_transfer_sweep() { current.reset(); }

void register_transfer_sweep() {
  // One knob at a time around the defaults (32 MiB, 3 slots, 7 threads), then a few together.
  // Settings outermost: each one is a new executor, and on the H200 (NVIDIA 580) a process
  // could create only about 30 WebGPU instances before Vulkan answered
  // VK_ERROR_INCOMPATIBLE_DRIVER.
  const Setting settings[] = {{32, 3, 7},  {16, 3, 7},  {64, 3, 7},  {32, 4, 7},  {32, 6, 7},
                              {32, 3, 3},  {32, 3, 11}, {32, 3, 15}, {64, 4, 15}, {16, 6, 15}};
  auto add = [](const Setting& s, int direction, int memory) {
    benchmark::RegisterBenchmark("BM_StagedSweep", BM_StagedSweep)
        ->ArgNames({"dir", "chunk_mib", "slots", "threads", "memory"})
        ->Args({direction, s.chunk_mib, s.slots, s.threads, memory})
        ->Iterations(4)->Repetitions(3)->UseRealTime()->Unit(benchmark::kMillisecond);
  };
  for (const Setting& s : settings) {
    for (int direction : {0, 1, 2}) add(s, direction, 0);
    // Fresh output memory, as the NIF's binaries are: page faults on top of the copy.
    if (s.chunk_mib == 32 && s.slots == 3 && (s.threads == 7 || s.threads == 15))
      for (int direction : {1, 2})
        for (int memory : {1, 2}) add(s, direction, memory);
  }
}

}  // namespace kem::bench
