// Fairness (issue 17, item 4): how long other callers' small calls take while one heavy call
// holds the device. Four caller threads issue 64-byte double-integer calls one after another
// through kem::Service (each answer checked against the CPU), in five phases of one run:
//   idle      no heavy neighbour;
//   loop      in-budget spin-kernel calls, each about 2 s, back to back (input over
//             batch_call_bytes, so each runs alone and no small call is batched with it);
//   dispatch  a huge dispatch: 16 Mi invocations (262,144 workgroups) of a few spin rounds,
//             calibrated to about 2 s, back to back;
//   compile   straight-line kernels of ~300 KB, a new source each (never cached), so every one
//             goes through the sandboxed admission and then its first compile on the device,
//             back to back;
//   deadline  one spin call of about 3 x 2 s with a 1000 ms timeout: it must end with timeout,
//             and its device is abandoned (the GPU worker process is replaced).
// The service is opened as a node opens it (sandbox and GPU worker on); --in-process keeps the
// devices in this process for comparison. Prints a markdown table; exits 1 if any call returned
// wrong bytes or the deadline phase did not time out, 2 if the service could not be set up.
//
// Usage: kem_fairness_bench [--in-process] [--seconds S] [--compile-kb K]
//   S: length of each phase (default 4); K: size of the slow-compile kernel (default 300).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kem/service.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream s;
  s << file.rdbuf();
  return s.str();
}

// From the source tree of the build, else from ./kernels (a copy of the tree at another path).
std::string double_integer() {
  std::string source = read_file(std::string(KEM_SOURCE_DIR) + "/kernels/double-integer.wgsl");
  return source.empty() ? read_file("kernels/double-integer.wgsl") : source;
}

// The spin kernel of the tests (tests/executor/test_support.h): `input[0]` rounds of an LCG per
// invocation, then its state. One invocation per output word.
const char* const kSpinKernel =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  var x = id.x;\n"
    "  for (var i = 0u; i < input[0]; i++) { x = x * 1664525u + 1013904223u; }\n"
    "  if (id.x < arrayLength(&output)) { output[id.x] = x; }\n"
    "}\n";

// The same over more than 65,535 workgroups: it reads num_workgroups, so KEM spreads the
// dispatch over rows and the index is linearised here (as in kernels/double-integer.wgsl).
const char* const kWideSpinKernel =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>,\n"
    "                                     @builtin(num_workgroups) groups: vec3<u32>) {\n"
    "  let index = id.x + id.y * groups.x * 64u;\n"
    "  var x = index;\n"
    "  for (var i = 0u; i < input[0]; i++) { x = x * 1664525u + 1013904223u; }\n"
    "  if (index < arrayLength(&output)) { output[index] = x; }\n"
    "}\n";

// The spin kernel's `rounds` LCG steps as one affine map x -> a*x + c (mod 2^32), by squaring:
// every output word of any round count checks in O(1), so even an H200's billions of rounds are
// verified exactly.
struct Affine {
  uint32_t a = 1, c = 0;
  uint32_t operator()(uint32_t x) const { return a * x + c; }
};
Affine after(Affine f, Affine g) { return {g.a * f.a, g.a * f.c + g.c}; }  // g(f(x))
Affine spin_map(uint64_t rounds) {
  Affine result, step{1664525u, 1013904223u};
  for (; rounds; rounds >>= 1, step = after(step, step))
    if (rounds & 1) result = after(result, step);
  return result;
}

// Whether `out` is the spin kernel's output of `words` words after `rounds` rounds.
bool spin_output_ok(std::span<const uint8_t> out, size_t words, uint32_t rounds) {
  if (out.size() != words * 4) return false;
  const Affine f = spin_map(rounds);
  for (size_t i = 0; i < words; ++i) {
    uint32_t w;
    std::memcpy(&w, out.data() + i * 4, 4);
    if (w != f(static_cast<uint32_t>(i))) return false;
  }
  return true;
}

std::vector<uint8_t> u32_input(uint32_t first, size_t bytes) {
  std::vector<uint8_t> input(std::max<size_t>(bytes, 4), 0);
  std::memcpy(input.data(), &first, 4);
  return input;
}

// A straight-line kernel of about `bytes`, in the form of tests/sandbox/hostile_kernels.h: each
// statement depends on the previous one, so the compiler drops none. (The form of
// tests/worker/containment_test.cpp, x = x * 3u + k, is refused by the sandbox's 10 s CPU limit
// on lavapipe from 60 KB already; this one is admitted at 300 KB and still compiles for seconds.)
// `salt` makes each source new, so its compile is never a cache hit. `expected` gets the CPU's
// output word for input word `seed`.
std::string straight_line_kernel(size_t bytes, uint32_t salt, uint32_t seed, uint32_t& expected) {
  std::string s =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() {\n  var x = input[0] + " + std::to_string(salt) + "u;\n";
  uint32_t x = seed + salt;
  for (uint32_t i = 0; s.size() < bytes; ++i) {
    s += "  x = (x ^ " + std::to_string(i) + "u) * 2654435761u + (x >> 13u);\n";
    x = (x ^ i) * 2654435761u + (x >> 13u);
  }
  expected = x;
  return s + "  output[0] = x;\n}\n";
}

std::string error_text(const kem::Error& e) { return std::string(kem::to_string(e.code)) + ": " + e.message; }

// What one heavy call did, for the table.
struct HeavyCall {
  bool ok = false, exact = false;
  kem::ErrorCode code = kem::ErrorCode::internal;  // when !ok
  std::string error;                               // code and message when !ok
  double seconds = 0;
  std::string describe() const {
    char s[64];
    std::snprintf(s, sizeof s, "%.2f s ", seconds);
    if (ok) return s + std::string(exact ? "ok (exact)" : "ok but WRONG bytes");
    return s + error;
  }
};

// Runs `request` with `kernel` on the calling thread, timed; `check` judges a successful output.
HeavyCall run_heavy(kem::Service& service, const std::string& kernel, const kem::KernelRequest& request,
                    const std::function<bool(std::span<const uint8_t>)>& check) {
  HeavyCall call;
  const auto start = Clock::now();
  auto out = service.run(kem::KernelRef::inline_source(kernel), request);
  call.seconds = seconds_since(start);
  call.ok = out.ok();
  if (out) {
    call.exact = check(*out);
  } else {
    call.code = out.error().code;
    call.error = error_text(out.error());
  }
  return call;
}

// How many spin rounds make `time_call(rounds)` last about `target` seconds: doubling from
// `start` until one call takes 100 ms or more, then the faster of two calls there, scaled (as
// tests/executor/test_support.h spin_iterations_lasting); then one call at that count, and a
// line through both points, since a call's fixed part (a 64 MiB readback) does not scale with
// the rounds. 0 when a call failed.
uint32_t calibrate(const std::function<double(uint32_t)>& time_call, uint32_t start, double target,
                   uint64_t most = uint64_t{1} << 31) {
  for (uint64_t n = start;; n *= 2) {
    const uint32_t rounds = static_cast<uint32_t>(std::min(n, most));
    const double took = time_call(rounds);
    if (took < 0) return 0;
    if (took < 0.1 && rounds < most) continue;
    const double again = time_call(rounds);
    if (again < 0) return 0;
    const double fastest = std::min(took, again);
    const double scaled = std::clamp<double>(target / fastest * rounds, 1, static_cast<double>(most));
    if (scaled <= rounds) return static_cast<uint32_t>(scaled);
    const double at_scaled = time_call(static_cast<uint32_t>(scaled));
    if (at_scaled < 0) return 0;
    const double per_round = (at_scaled - fastest) / (scaled - rounds);
    if (per_round <= 0) return static_cast<uint32_t>(scaled);
    const double fitted = rounds + (target - fastest) / per_round;
    return static_cast<uint32_t>(std::clamp<double>(fitted, 1, static_cast<double>(most)));
  }
}

// The other callers: `threads` threads, each issuing one 64-byte double-integer call after
// another until stopped; the latency of every call issued before the phase's end is kept.
struct SmallCalls {
  std::mutex mutex;
  std::vector<double> ms;  // calls that answered exactly
  long failures = 0, wrong = 0;
  std::string first_failure, first_wrong;
};

void small_caller(kem::Service& service, const std::string& source, uint32_t seed, const std::atomic<bool>& measuring,
                  const std::atomic<bool>& stop, SmallCalls& calls) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> input(64), expected(64);
  while (!stop) {
    for (size_t i = 0; i < input.size(); i += 4) {
      const uint32_t w = rng(), twice = w * 2u;  // the CPU reference: every u32 word doubled
      std::memcpy(&input[i], &w, 4);
      std::memcpy(&expected[i], &twice, 4);
    }
    kem::KernelRequest r;
    r.input = input;
    r.timeout = 10s;
    const bool counted = measuring;  // issued inside the phase's window
    const auto start = Clock::now();
    auto out = service.run(kem::KernelRef::inline_source(source), r);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!counted) continue;
    std::lock_guard lock(calls.mutex);
    if (!out) {
      if (calls.failures++ == 0) calls.first_failure = error_text(out.error());
    } else if (*out != expected) {
      if (calls.wrong++ == 0) calls.first_wrong = "wrong bytes";
    } else {
      calls.ms.push_back(ms);
    }
  }
}

struct PhaseResult {
  std::string name;
  SmallCalls calls;
  std::vector<HeavyCall> heavy;
  std::string note;  // e.g. the worker's replacement
};

double percentile(std::vector<double> sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return sorted[i];
}

// One phase: the small callers warm up for a moment, then for `seconds` their calls are
// measured while `heavy` (empty in the idle phase) is called back to back on its own thread,
// or once when `once`. Heavy calls still running at the end are waited for.
void run_phase(kem::Service& service, const std::string& small_source, double seconds, PhaseResult& phase,
               const std::function<HeavyCall()>& heavy, bool once = false) {
  std::atomic<bool> measuring{false}, stop{false};
  std::vector<std::thread> callers;
  for (uint32_t t = 0; t < 4; ++t)
    callers.emplace_back(small_caller, std::ref(service), std::cref(small_source), 1000 * (t + 1),
                         std::cref(measuring), std::cref(stop), std::ref(phase.calls));
  std::this_thread::sleep_for(300ms);
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  measuring = true;
  std::thread neighbour;
  if (heavy)
    neighbour = std::thread([&] {
      do phase.heavy.push_back(heavy());
      while (!once && Clock::now() < until);
    });
  std::this_thread::sleep_until(until);
  measuring = false;
  stop = true;
  for (auto& c : callers) c.join();
  if (neighbour.joinable()) neighbour.join();
  std::sort(phase.calls.ms.begin(), phase.calls.ms.end());
}

std::string adapter_field(const std::string& json, const std::string& key) {
  const std::string tag = "\"" + key + "\":\"";
  const size_t at = json.find(tag);
  if (at == std::string::npos) return "?";
  const size_t end = json.find('"', at + tag.size());
  return json.substr(at + tag.size(), end - at - tag.size());
}

int bench(bool isolate, double seconds, size_t compile_kb) {
  kem::ServiceOptions options;
  options.devices.adapters = {""};
  options.devices.executor.loop_budget = 0xFFFFFFFFu;  // the spin kernel's calibrated rounds
  options.store.disk_cache = false;
  options.store.offline = true;
  options.worker.isolate = isolate;  // the sandbox stays on, as on a node
  auto created = kem::Service::create(options);
  if (!created) return std::fprintf(stderr, "kem_fairness_bench: %s\n", created.error().message.c_str()), 2;
  kem::Service& service = *created.value();
  const std::string info = service.adapter_info_json();
  std::printf("adapter: %s (%s); devices %s\n", adapter_field(info, "name").c_str(),
              adapter_field(info, "driver").c_str(), isolate ? "in the GPU worker process" : "in this process");

  const std::string small = double_integer();
  if (small.empty()) return std::fprintf(stderr, "kem_fairness_bench: kernels/double-integer.wgsl not found\n"), 2;
  const uint64_t batch_bytes = options.devices.executor.batch_call_bytes;
  constexpr double kTarget = 2.0;  // seconds of one heavy call

  // The loop: over batch_call_bytes of input (and so of output), so it runs alone.
  const size_t loop_words = batch_bytes / 4 + 64;
  auto loop_call = [&](uint32_t rounds, std::chrono::milliseconds timeout) {
    const std::vector<uint8_t> input = u32_input(rounds, loop_words * 4);
    kem::KernelRequest r;
    r.input = input;
    r.timeout = timeout;
    return run_heavy(service, kSpinKernel, r, [&](std::span<const uint8_t> out) {
      return spin_output_ok(out, loop_words, rounds);
    });
  };
  // The huge dispatch: 16 Mi invocations from a 4-byte input, output 64 MiB.
  const size_t wide_words = size_t{16} << 20;
  auto wide_call = [&](uint32_t rounds) {
    const std::vector<uint8_t> input = u32_input(rounds, 4);
    kem::KernelRequest r;
    r.input = input;
    r.output_size = wide_words * 4;
    r.timeout = 30s;
    return run_heavy(service, kWideSpinKernel, r, [&](std::span<const uint8_t> out) {
      return spin_output_ok(out, wide_words, rounds);
    });
  };
  auto timed = [](HeavyCall call) {
    if (!call.ok || !call.exact) std::fprintf(stderr, "calibration: %s\n", call.describe().c_str());
    return call.ok && call.exact ? call.seconds : -1.0;
  };
  const auto calibrating = Clock::now();
  const uint32_t loop_rounds = calibrate([&](uint32_t n) { return timed(loop_call(n, 30s)); }, 1024, kTarget);
  const uint32_t wide_rounds = calibrate([&](uint32_t n) { return timed(wide_call(n)); }, 1, kTarget);
  if (!loop_rounds || !wide_rounds) return 2;
  std::printf("calibrated in %.1f s: loop %u rounds x %zu invocations, dispatch %u rounds x %zu invocations\n",
              seconds_since(calibrating), loop_rounds, loop_words, wide_rounds, wide_words);

  std::vector<PhaseResult> phases(5);
  phases[0].name = "1 idle";
  run_phase(service, small, seconds, phases[0], nullptr);
  phases[1].name = "2 heavy loop (~2 s, in budget)";
  run_phase(service, small, seconds, phases[1], [&] { return loop_call(loop_rounds, 30s); });
  phases[2].name = "3 huge dispatch (262,144 workgroups)";
  run_phase(service, small, seconds, phases[2], [&] { return wide_call(wide_rounds); });

  phases[3].name = "4 slow first compile (" + std::to_string(compile_kb) + " KB, sandboxed)";
  uint32_t salt = static_cast<uint32_t>(Clock::now().time_since_epoch().count() % 1000000);  // new each run too
  run_phase(service, small, seconds, phases[3], [&] {
    uint32_t expected = 0;
    const uint32_t seed = 12345;
    const std::string kernel = straight_line_kernel(compile_kb << 10, ++salt, seed, expected);
    // Over batch_call_bytes, so it runs alone like the other heavy calls.
    const std::vector<uint8_t> input = u32_input(seed, batch_bytes + 256);
    kem::KernelRequest r;
    r.input = input;
    r.timeout = 30s;
    return run_heavy(service, kernel, r, [&](std::span<const uint8_t> out) {
      uint32_t first = 0;
      if (out.size() != input.size()) return false;
      std::memcpy(&first, out.data(), 4);
      return first == expected && std::all_of(out.begin() + 4, out.end(), [](uint8_t b) { return b == 0; });
    });
  });

  {
    // The sandbox's share of the last compile: the rest of a call's time is the device's own
    // first compile (in the GPU worker) and the run.
    const kem::KernelAdmission::Stats a = service.admission_stats();
    char note[160];
    std::snprintf(note, sizeof note, "; last sandbox run %llu ms CPU, %llu ms wall",
                  static_cast<unsigned long long>(a.last_cpu_ms), static_cast<unsigned long long>(a.last_wall_ms));
    phases[3].note = note;
  }

  phases[4].name = "5 past its deadline (1 s timeout, ~6 s of work)";
  const kem::WorkerStats before = service.worker_stats();
  const uint32_t long_rounds = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{loop_rounds} * 3, 0xFFFFFFF0u));
  run_phase(service, small, seconds, phases[4], [&] { return loop_call(long_rounds, 1000ms); }, /*once=*/true);
  const kem::WorkerStats after = service.worker_stats();
  if (isolate) {
    char note[160];
    std::snprintf(note, sizeof note, "; worker replaced %llu time(s), back in %.0f ms",
                  static_cast<unsigned long long>(after.replacements - before.replacements), after.last_recovery_ms);
    phases[4].note = note;
  }

  // The table.
  const double idle_p99 = percentile(phases[0].calls.ms, 0.99);
  std::printf("\n%.1f s per phase, 4 small callers (64 B double-integer, service.run, 10 s timeout)\n\n", seconds);
  std::printf("| phase | small calls | failures | p50 ms | p99 ms | max ms | p99 / idle p99 | heavy call outcome |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---|\n");
  long wrong = 0;
  bool heavy_wrong = false;
  for (const PhaseResult& p : phases) {
    const auto& ms = p.calls.ms;
    std::string outcome;
    for (const HeavyCall& h : p.heavy) {
      outcome += (outcome.empty() ? "" : "; ") + h.describe();
      heavy_wrong |= h.ok && !h.exact;
    }
    if (p.heavy.empty()) outcome = "none";
    const long count = static_cast<long>(ms.size()) + p.calls.failures + p.calls.wrong;
    std::printf("| %s | %ld | %ld | %.2f | %.2f | %.2f | %.1f | %s%s |\n", p.name.c_str(), count,
                p.calls.failures + p.calls.wrong, percentile(ms, 0.5), percentile(ms, 0.99),
                ms.empty() ? 0.0 : ms.back(), idle_p99 > 0 ? percentile(ms, 0.99) / idle_p99 : 0.0, outcome.c_str(),
                p.note.c_str());
    wrong += p.calls.wrong;
  }
  std::printf("\n(p50/p99/max over the small calls answered exactly; failures are small calls that returned an "
              "error, or wrong bytes)\n");
  for (const PhaseResult& p : phases) {
    if (p.calls.failures) std::printf("%s: %ld failed, first: %s\n", p.name.c_str(), p.calls.failures,
                                      p.calls.first_failure.c_str());
    if (p.calls.wrong) std::printf("%s: %ld WRONG, first: %s\n", p.name.c_str(), p.calls.wrong,
                                   p.calls.first_wrong.c_str());
  }

  int rc = 0;
  if (wrong || heavy_wrong) {
    std::printf("FAIL: a call returned wrong bytes\n");
    rc = 1;
  }
  const auto& deadline = phases[4].heavy;
  if (deadline.empty() || deadline[0].ok || deadline[0].code != kem::ErrorCode::timeout) {
    std::printf("FAIL: the call past its deadline did not end with timeout\n");
    rc = 1;
  }
  const auto closing = Clock::now();
  created.value().reset();
  std::printf("service closed in %.2f s\n", seconds_since(closing));
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool isolate = true;
    double seconds = 4;
    size_t compile_kb = 300;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--in-process") isolate = false;
      else if (arg == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
      else if (arg == "--compile-kb" && i + 1 < argc) compile_kb = std::stoul(argv[++i]);
      else return std::fprintf(stderr, "usage: kem_fairness_bench [--in-process] [--seconds S] [--compile-kb K]\n"), 2;
    }
    return bench(isolate, seconds, compile_kb);
  } catch (const std::exception& e) {  // nothing crosses out of main
    std::fprintf(stderr, "kem_fairness_bench: %s\n", e.what());
    return 2;
  }
}
