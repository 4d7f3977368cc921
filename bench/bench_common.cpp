#include "bench_common.h"

#include <future>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

#include "webgpu/instance.h"

namespace kem::bench {
namespace {

std::string read_kernel(const std::string& relative) {
  std::ifstream file(std::string(KEM_SOURCE_DIR) + "/" + relative);
  if (!file) file.open(relative);  // run from a carried tree (the GPU machine)
  if (!file) {
    fprintf(stderr, "kem_bench: cannot read %s\n", relative.c_str());
    std::exit(1);
  }
  std::stringstream s;
  s << file.rdbuf();
  return s.str();
}

std::string format_bytes(uint64_t bytes) {
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

const std::string& double_integer() {
  static const std::string source = read_kernel("kernels/double-integer.wgsl");
  return source;
}

uint32_t fma_iterations() {
  static const uint32_t n = [] {
    const char* env = std::getenv("KEM_BENCH_FMA_ITERATIONS");
    long v = env ? std::strtol(env, nullptr, 10) : 0;
    return v > 0 ? static_cast<uint32_t>(v) : 16384u;
  }();
  return n;
}

double fma_flops_per_call() { return double(kFmaInvocations) * fma_iterations() * 4 * 2; }

const std::string& fma_kernel() {
  // Four independent chains keep the FMA pipes busy; the constants keep every value finite
  // (x -> 0.999999 x + 1e-6 converges to 1) so no denormal or NaN path is timed.
  static const std::string source = R"(
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i >= arrayLength(&output)) { return; }
  let x = input[i];
  var a = x;
  var b = x + 1.0;
  var c = x + 2.0;
  var d = x + 3.0;
  for (var k = 0u; k < )" + std::to_string(fma_iterations()) + R"(u; k++) {
    a = fma(a, 0.999999, 0.000001);
    b = fma(b, 0.999999, 0.000001);
    c = fma(c, 0.999999, 0.000001);
    d = fma(d, 0.999999, 0.000001);
  }
  output[i] = a + b + c + d;
}
)";
  return source;
}

std::vector<uint8_t> fma_input() {
  std::vector<uint8_t> bytes(kFmaInvocations * 4);
  for (uint64_t i = 0; i < kFmaInvocations; ++i) {
    float v = float(i) / float(kFmaInvocations);
    std::memcpy(bytes.data() + i * 4, &v, 4);
  }
  return bytes;
}

std::vector<Size> transfer_sizes(bool slow_peer) {
  // The proof-of-concept design creates a device per call (about 0.1 s warm, more the first
  // time): few iterations everywhere. Big sizes are fixed for every peer to bound the run time.
  const int64_t small_iterations = slow_peer ? 5 : 0;
  return {
      {4, small_iterations, 0},
      {4 << 10, small_iterations, 0},
      {1 << 20, small_iterations, 0},
      {64 << 20, slow_peer ? 3 : 0, 0},
      {256 << 20, slow_peer ? 2 : 3, slow_peer ? 3 : 5},
      {int64_t(1) << 30, 1, slow_peer ? 3 : 5},
  };
}

ExecutorOptions options() {
  ExecutorOptions o;
  o.max_input_bytes = 1ull << 30;
  o.max_output_bytes = 1ull << 30;
  return o;
}

const Limits& adapter_limits() {
  static const Limits limits = [] {
    Limits l;
    const char* env = std::getenv("KEM_ADAPTER");
    auto instance = gpu::Instance::create();
    if (!instance) return l;
    auto adapter = (*instance)->request_adapter(env ? env : "");
    if (!adapter) return l;
    l.max_storage_binding = adapter->limits.maxStorageBufferBindingSize;
    l.max_buffer = adapter->limits.maxBufferSize;
    return l;
  }();
  return limits;
}

bool skip_if_over_limits(benchmark::State& state, uint64_t bytes) {
  const Limits& l = adapter_limits();
  std::string why;
  if (l.max_storage_binding == 0) why = "no adapter";
  else if (bytes > l.max_storage_binding)
    why = format_bytes(bytes) + " is over the adapter's maxStorageBufferBindingSize (" +
          format_bytes(l.max_storage_binding) + ")";
  else if (bytes > l.max_buffer)
    why = format_bytes(bytes) + " is over the adapter's maxBufferSize (" + format_bytes(l.max_buffer) + ")";
  if (why.empty()) return false;
  state.SkipWithError(("skipped: " + why).c_str());
  return true;
}

bool doubled(const uint8_t* out, size_t bytes) {
  return std::all_of(out, out + bytes, [](uint8_t b) { return b == 6; });
}

void count_round_trip_bytes(benchmark::State& state, uint64_t bytes) {
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes) * 2);
}

const std::vector<uint8_t>& input_of(uint64_t bytes) {
  static std::mutex mutex;
  static std::map<uint64_t, std::unique_ptr<std::vector<uint8_t>>> inputs;
  std::lock_guard lock(mutex);
  auto& slot = inputs[bytes];
  if (!slot) slot = std::make_unique<std::vector<uint8_t>>(bytes, 3);
  return *slot;
}

bool first_time(const std::string& peer, uint64_t bytes) {
  static std::mutex mutex;
  static std::set<std::pair<std::string, uint64_t>> seen;
  std::lock_guard lock(mutex);
  return seen.insert({peer, bytes}).second;
}

Executor& warm_executor() {
  static auto created = Executor::create(options());
  if (!created) {
    fprintf(stderr, "kem_bench: executor: %s\n", created.error().message.c_str());
    std::exit(1);
  }
  return **created;
}

void time_runs(benchmark::State& state, Executor& executor, const KernelRequest& request) {
  for (auto _ : state) {
    auto out = executor.run(request);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data());
  }
}

Result<std::span<const uint8_t>> submit_and_wait(Executor& executor, const KernelRequest& request) {
  std::promise<Result<std::span<const uint8_t>>> done;
  executor.submit(request, [&done](Result<OutputView> out) {
    if (out) done.set_value(std::span<const uint8_t>(out->data(), out->size()));
    else done.set_value(out.error());
  });
  return done.get_future().get();
}

void register_sizes(const char* name, void (*fn)(benchmark::State&), bool slow_peer) {
  for (const Size& s : transfer_sizes(slow_peer)) {
    auto* b = benchmark::RegisterBenchmark(name, fn)->Arg(s.bytes)->UseRealTime()->Unit(benchmark::kMicrosecond);
    if (s.iterations) b->Iterations(s.iterations);
    if (s.repetitions) b->Repetitions(s.repetitions);
  }
}

}  // namespace kem::bench
