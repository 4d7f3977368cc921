// Issue 18, part 1: how the shape of a kernel's WGSL decides its speed on the GPU, kernel only
// (device-resident buffers, raw Dawn on KEM's WebGPU layer, no transfer; the time of one
// dispatch of ten in one submission, the copy alone in its own). Each variant computes
// the same bytes as the kernel it varies, checked once before it is timed:
//   fma/as_written       bench_common.cpp's FMA loop (4 chains, fixed trip count)
//   fma/metered          the loop as the executor compiles it for a metered call
//   fma/unrolled_U       the same loop with U rounds per iteration, written out by hand
//   double/u32           kernels/double-integer.wgsl, one u32 per invocation
//   double/vec4          the same with one vec4<u32> per invocation (16-byte loads and stores)
//   double/*_metered     as the executor compiles them for a metered call
//   double/vec4_xN       N vec4<u32> per invocation, 256 apart (coalesced, N loads in flight)
//   double/vec4_wgN      one vec4<u32> per invocation, N invocations per workgroup
//   double/vec4_grid_stride  2,112 workgroups, each invocation looping over the buffer
//   double/device_copy   a buffer-to-buffer copy of the same bytes: the memory ceiling
// KEM_BENCH_SHAPE_BYTES sets the double/copy size (default 1 GiB; smaller on lavapipe).
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>

#include "bench_common.h"
#include "raw_dawn.h"
#include "wgsl/metering.h"

namespace kem::bench {
namespace {

uint64_t shape_bytes() {
  const char* env = std::getenv("KEM_BENCH_SHAPE_BYTES");
  const long long v = env ? std::atoll(env) : 0;
  return v > 0 ? static_cast<uint64_t>(v) / 16 * 16 : uint64_t{1} << 30;
}

// The FMA loop with `unroll` rounds per iteration (1: fma_kernel() itself).
std::string fma_unrolled(uint32_t unroll) {
  if (unroll == 1) return fma_kernel();
  std::string body;
  for (uint32_t u = 0; u < unroll; ++u)
    body += "    a = fma(a, 0.999999, 0.000001);\n    b = fma(b, 0.999999, 0.000001);\n"
            "    c = fma(c, 0.999999, 0.000001);\n    d = fma(d, 0.999999, 0.000001);\n";
  std::string s = fma_kernel();
  const size_t loop = s.find("  for (var k");
  const size_t end = s.find("  }\n", loop) + 4;
  return s.substr(0, loop) + "  for (var k = 0u; k < " + std::to_string(fma_iterations()) + "u; k += " +
         std::to_string(unroll) + "u) {\n" + body + "  }\n" + s.substr(end);
}

const char* kDoubleVec4 = R"(
@group(0) @binding(0) var<storage, read> input: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> output: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i < arrayLength(&output)) {
    output[i] = input[i] * 2u;
  }
}
)";

// `per` vec4<u32> per invocation, 256 apart, so that each of a workgroup's loads is one
// contiguous 4 KiB row (coalesced) and an invocation has `per` loads in flight.
std::string double_vec4_strided(uint32_t per) {
  const std::string span = std::to_string(256 * per);
  std::string body;
  for (uint32_t k = 0; k < per; ++k) {
    const std::string j = "j" + std::to_string(k);
    body += "  let " + j + " = base + " + std::to_string(256 * k) + "u;\n  if (" + j +
            " < arrayLength(&output)) { output[" + j + "] = input[" + j + "] * 2u; }\n";
  }
  return "@group(0) @binding(0) var<storage, read> input: array<vec4<u32>>;\n"
         "@group(0) @binding(1) var<storage, read_write> output: array<vec4<u32>>;\n"
         "@compute @workgroup_size(256)\n"
         "fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,\n"
         "        @builtin(num_workgroups) groups: vec3<u32>) {\n"
         "  let base = (wg.x + wg.y * groups.x) * " + span + "u + lid;\n" + body + "}\n";
}

struct Shape {
  std::string source;
  uint64_t bytes_per_workgroup;
  bool fma;                 // else double-integer
  bool with_meter = false;  // `source` is loop metering's text (binds KEM's meter)
};

// What the executor compiles for a metered call of `source`.
std::string metered(const std::string& source) {
  Result<MeteredKernel> m = meter_wgsl(source);
  return m ? m->source : "metering failed: " + m.error().message;
}

// `per` vec4<u32> per invocation, in a loop over the whole buffer with a stride of the grid
// (`groups` workgroups of 256), so that few workgroups stay resident and each streams.
std::string double_vec4_grid_stride() {
  return "@group(0) @binding(0) var<storage, read> input: array<vec4<u32>>;\n"
         "@group(0) @binding(1) var<storage, read_write> output: array<vec4<u32>>;\n"
         "@compute @workgroup_size(256)\n"
         "fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {\n"
         "  let stride = groups.x * groups.y * 256u;\n"
         "  for (var i = id.x + id.y * groups.x * 256u; i < arrayLength(&output); i += stride) {\n"
         "    output[i] = input[i] * 2u;\n"
         "  }\n"
         "}\n";
}

// One vec4<u32> per invocation, `size` invocations per workgroup.
std::string double_vec4_workgroup(uint32_t size) {
  const std::string n = std::to_string(size);
  return "@group(0) @binding(0) var<storage, read> input: array<vec4<u32>>;\n"
         "@group(0) @binding(1) var<storage, read_write> output: array<vec4<u32>>;\n"
         "@compute @workgroup_size(" + n + ")\n"
         "fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {\n"
         "  let i = id.x + id.y * groups.x * " + n + "u;\n"
         "  if (i < arrayLength(&output)) { output[i] = input[i] * 2u; }\n"
         "}\n";
}

// One raw Dawn per variant, created, prepared and checked on first use.
RawDawn* prepared(benchmark::State& state, const std::string& name, const Shape& shape) {
  static std::map<std::string, std::unique_ptr<RawDawn>> made;
  static std::vector<uint8_t> fma_reference;
  if (auto found = made.find(name); found != made.end()) return found->second.get();
  const uint64_t bytes = shape.fma ? kFmaInvocations * 4 : shape_bytes();
  if (skip_if_over_limits(state, bytes)) return nullptr;
  auto created = RawDawn::create(shape.source, shape.with_meter);
  if (!created) {
    state.SkipWithError((name + ": " + created.error().message).c_str());
    return nullptr;
  }
  RawDawn& raw = **created;
  if (auto s = raw.prepare(bytes, shape.bytes_per_workgroup); !s) {
    state.SkipWithError(s.error().message.c_str());
    return nullptr;
  }
  std::vector<uint8_t> output(bytes);
  const std::vector<uint8_t> input = shape.fma ? fma_input() : input_of(bytes);
  if (auto s = raw.round_trip(input, output.data()); !s) {
    state.SkipWithError(("warm-up: " + s.error().message).c_str());
    return nullptr;
  }
  if (shape.fma) {
    // Every variant computes exactly the rounds of the loop as written: the same bytes.
    if (fma_reference.empty()) {
      std::vector<uint8_t> reference(bytes);
      auto as_written = RawDawn::create(fma_kernel());
      if (!as_written || !(*as_written)->prepare(bytes) || !(*as_written)->round_trip(input, reference.data())) {
        state.SkipWithError("the FMA loop as written did not run");
        return nullptr;
      }
      fma_reference = std::move(reference);
    }
    if (output != fma_reference) {
      state.SkipWithError("output differs from the loop as written");
      return nullptr;
    }
  } else if (!doubled(output.data(), bytes)) {
    state.SkipWithError("wrong output");
    return nullptr;
  }
  return made.emplace(name, std::move(created).value()).first->second.get();
}

// Dispatches per submission: the time of one is the submission's over this many, so that the
// submit-and-wait latency (about 35 us on the H200) is not counted as the kernel's.
constexpr int kRepeats = 10;

void run_shape(benchmark::State& state, const std::string& name, const Shape& shape, bool copy) {
  RawDawn* raw = prepared(state, name, shape);
  if (!raw) return;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = copy ? raw->copy_only() : raw->dispatch_only(kRepeats);
    if (!s) {
      state.SkipWithError(s.error().message.c_str());
      break;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    state.SetIterationTime(took.count() / (copy ? 1 : kRepeats));
  }
  if (shape.fma) {
    state.counters["flops"] = benchmark::Counter(double(state.iterations()) * fma_flops_per_call(),
                                                 benchmark::Counter::kIsRate);
  } else {
    count_round_trip_bytes(state, shape_bytes());  // bytes read + written in device memory
  }
}

}  // namespace

void register_kernel_shapes() {
  auto add = [](const std::string& name, Shape shape, bool copy = false) {
    benchmark::RegisterBenchmark(("BM_KernelShape/" + name).c_str(),
                                 [name, shape, copy](benchmark::State& state) { run_shape(state, name, shape, copy); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  add("fma/as_written", {fma_unrolled(1), 1024, true});
  add("fma/metered", {metered(fma_unrolled(1)), 1024, true, true});
  for (uint32_t u : {2u, 4u, 8u, 16u}) add("fma/unrolled_" + std::to_string(u), {fma_unrolled(u), 1024, true});
  add("double/u32", {double_integer(), 1024, false});
  add("double/u32_metered", {metered(double_integer()), 1024, false, true});
  add("double/vec4", {kDoubleVec4, 4096, false});
  add("double/vec4_metered", {metered(kDoubleVec4), 4096, false, true});
  add("double/vec4_x2", {double_vec4_strided(2), 8192, false});
  add("double/vec4_x4", {double_vec4_strided(4), 16384, false});
  for (uint32_t size : {64u, 128u, 512u, 1024u})
    add("double/vec4_wg" + std::to_string(size), {double_vec4_workgroup(size), 16ull * size, false});
  // 132 SMs x 16 workgroups of 256.
  add("double/vec4_grid_stride", {double_vec4_grid_stride(), (shape_bytes() + 2111) / 2112, false});
  add("double/device_copy", {double_integer(), 1024, false}, true);
}

}  // namespace kem::bench
