// KernelAdmission on the real adapter with real kem-kernel-sandbox processes: hostile kernels
// are refused at their limits in bounded time, verdicts are remembered, honest kernels pass.
#include <gtest/gtest.h>

#include <chrono>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "hostile_kernels.h"
#include "kem/kernel_admission.h"
#include "test_support.h"

namespace kem {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<KernelAdmission> make(KernelAdmissionOptions o = {}) {
  auto created = KernelAdmission::create(std::move(o));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? std::move(created).value() : nullptr;
}

KernelRequest request_of(std::string_view source) {
  KernelRequest r;
  r.source = source;
  return r;
}

void report(const KernelAdmission& admission, const char* what) {
  const auto s = admission.stats();
  std::printf("[ figures  ] %s: VmPeak %.0f MiB, VmHWM %.0f MiB, CPU %llu ms, wall %llu ms\n", what,
              s.last_vm_peak / 1048576.0, s.last_vm_hwm / 1048576.0, static_cast<unsigned long long>(s.last_cpu_ms),
              static_cast<unsigned long long>(s.last_wall_ms));
}

TEST(KernelAdmission, AnHonestKernelIsAdmittedAndRemembered) {
  auto admission = make();
  ASSERT_TRUE(admission);
  const std::string kernel = test::read_kernel("double-integer.wgsl");
  const auto start = Clock::now();
  Status first = admission->admit(request_of(kernel));
  const double took = seconds_since(start);
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::printf("[ figures  ] one sandbox run, start to verdict: %.0f ms\n", took * 1000);
  report(*admission, "double-integer.wgsl");
  const auto again = Clock::now();
  EXPECT_TRUE(admission->admit(request_of(kernel)).ok());
  EXPECT_LT(seconds_since(again), 0.05);
  ASSERT_TRUE(admission->known(request_of(kernel)).has_value());
  EXPECT_TRUE(admission->known(request_of(kernel))->ok());
  const auto s = admission->stats();
  EXPECT_EQ(s.sandbox_runs, 1u);
  EXPECT_EQ(s.admitted, 1u);
  EXPECT_EQ(s.refused, 0u);
  EXPECT_EQ(s.cache_hits, 3u);  // the second admit and the two known()
  // Another entry point, metering or override is another kernel: not known yet.
  KernelRequest unmetered = request_of(kernel);
  unmetered.unmetered = true;
  EXPECT_FALSE(admission->known(unmetered).has_value());
}

TEST(KernelAdmission, TheSigfpeKernelIsRefusedWithItsSignalAndThenFromTheVerdictCache) {
  auto admission = make();
  ASSERT_TRUE(admission);
  const auto start = Clock::now();
  Status first = admission->admit(request_of(test::kSigfpeKernel));
  // The child's death is seen at once (not at the 20 s wall limit).
  EXPECT_LT(seconds_since(start), 5.0);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::compile_error);
  EXPECT_EQ(first.error().message,
            "the kernel was refused: its first compile, in a sandbox, was killed by signal 8 (SIGFPE)");
  report(*admission, "SIGFPE kernel");
  const auto again = Clock::now();
  Status second = admission->admit(request_of(test::kSigfpeKernel));
  EXPECT_LT(seconds_since(again), 0.05);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, first.error().message);
  const auto s = admission->stats();
  EXPECT_EQ(s.sandbox_runs, 1u);
  EXPECT_EQ(s.refused, 1u);
  EXPECT_EQ(s.cache_hits, 1u);
}

// 22 functions calling the previous one twice: lavapipe inlines 2^21 copies and grows past
// any limit. Refused at its memory limit, seconds after it started, not minutes.
TEST(KernelAdmission, TheCallTreeKernelIsRefusedAtItsMemoryLimitInBoundedTime) {
  KernelAdmissionOptions o;
  o.address_space_bytes = 1ull << 30;  // beyond what the sandbox had at its start
  o.timeout = std::chrono::seconds(120);  // the memory limit, not the clock, must stop it
  o.cpu_seconds = 120;
  auto admission = make(o);
  ASSERT_TRUE(admission);
  const std::string kernel = test::call_tree_kernel(22);
  EXPECT_LT(kernel.size(), 1500u);
  const auto start = Clock::now();
  Status s = admission->admit(request_of(kernel));
  const double took = seconds_since(start);
  std::printf("[ figures  ] call tree refused after %.1f s: %s\n", took, s.ok() ? "" : s.error().message.c_str());
  report(*admission, "call-tree kernel");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::compile_error);
  const std::string prefix = "the kernel was refused: its first compile, in a sandbox, passed its memory limit of 1024 MiB (";
  EXPECT_EQ(s.error().message.substr(0, prefix.size()), prefix) << s.error().message;
  EXPECT_LT(took, 60.0);
  EXPECT_EQ(admission->stats().refused, 1u);
}

// 1 MB of straight-line code takes lavapipe 30+ s to compile; a 2 s wall limit stops it at 2 s.
TEST(KernelAdmission, ALargeStraightLineKernelIsRefusedByTheWallTimeLimit) {
  KernelAdmissionOptions o;
  o.timeout = std::chrono::seconds(2);
  o.cpu_seconds = 120;
  auto admission = make(o);
  ASSERT_TRUE(admission);
  const std::string kernel = test::straight_line_kernel(1 << 20);
  const auto start = Clock::now();
  Status s = admission->admit(request_of(kernel));
  const double took = seconds_since(start);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::compile_error);
  EXPECT_EQ(s.error().message, "the kernel was refused: its first compile, in a sandbox, took longer than 2 s");
  // The limit, plus the sandbox's start (about 0.1 to 0.3 s here) and some slack for a busy machine.
  EXPECT_GE(took, 2.0);
  EXPECT_LT(took, 6.0);
  // Remembered: the next call of it is answered at once.
  const auto again = Clock::now();
  EXPECT_EQ(admission->admit(request_of(kernel)).error().message, s.error().message);
  EXPECT_LT(seconds_since(again), 0.05);
}

// Wall time depends on how busy the machine was: its refusal is remembered for
// wall_refusal_memory only, then the kernel gets another sandbox run.
TEST(KernelAdmission, AWallTimeRefusalIsForgottenAfterItsPeriod) {
  KernelAdmissionOptions o;
  o.timeout = std::chrono::milliseconds(500);
  o.cpu_seconds = 120;
  o.wall_refusal_memory = std::chrono::milliseconds(1500);
  auto admission = make(o);
  ASSERT_TRUE(admission);
  const std::string kernel = test::straight_line_kernel(1 << 20);  // over 30 s of compile here
  Status first = admission->admit(request_of(kernel));
  const auto refused_at = Clock::now();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().message, "the kernel was refused: its first compile, in a sandbox, took longer than 500 ms");
  EXPECT_EQ(admission->stats().sandbox_runs, 1u);
  // Within the period: the remembered refusal, no sandbox run.
  Status again = admission->admit(request_of(kernel));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, first.error().message);
  EXPECT_EQ(admission->stats().sandbox_runs, 1u);
  ASSERT_LT(Clock::now() - refused_at, std::chrono::milliseconds(1500)) << "the machine is too slow for this test's timing";
  // After it: a new run (refused again: the kernel has not got faster).
  std::this_thread::sleep_until(refused_at + std::chrono::milliseconds(1600));
  Status later = admission->admit(request_of(kernel));
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().message, first.error().message);
  EXPECT_EQ(admission->stats().sandbox_runs, 2u);
}

// The same kernel under a CPU limit of 2 s (and no wall limit to speak of): RLIMIT_CPU ends it.
TEST(KernelAdmission, ALargeStraightLineKernelIsRefusedByTheCpuLimit) {
  KernelAdmissionOptions o;
  o.timeout = std::chrono::seconds(120);
  o.cpu_seconds = 2;
  auto admission = make(o);
  ASSERT_TRUE(admission);
  const std::string kernel = test::straight_line_kernel(1 << 20);
  const auto start = Clock::now();
  Status s = admission->admit(request_of(kernel));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "the kernel was refused: its first compile, in a sandbox, passed its CPU time limit of 2 s");
  EXPECT_LT(seconds_since(start), 20.0);
}

// An ordinary compile error is the compile's own message, exactly as a device gives it (line and
// column of the kernel's source), and remembered.
TEST(KernelAdmission, AnOrdinaryCompileErrorKeepsItsLineAndColumn) {
  auto admission = make();
  ASSERT_TRUE(admission);
  const std::string kernel =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() {\n"
      "  output[0] = input[0] + undefined_name;\n"
      "}\n";
  Status s = admission->admit(request_of(kernel));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::compile_error);
  EXPECT_EQ(s.error().message.substr(0, 5), "4:26:") << s.error().message;
  // What the same kernel gets from an executor in this process.
  Status direct = test::shared_executor().compile(request_of(kernel));
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(s.error().message, direct.error().message);
  EXPECT_EQ(admission->admit(request_of(kernel)).error().message, direct.error().message);
  EXPECT_EQ(admission->stats().sandbox_runs, 1u);
  // A bad override value is the kernel's too: invalid_argument, as the call would get.
  const std::string with_override =
      "override scale: u32;\n"
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() { output[0] = input[0] * scale; }\n";
  KernelRequest r = request_of(with_override);
  r.overrides = {{"scale", -1.0}};
  Status bad = admission->admit(r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(bad.error().message, test::shared_executor().compile(r).error().message);
  r.overrides = {{"scale", 3.0}};
  EXPECT_TRUE(admission->admit(r).ok());
}

// Eight callers of one new kernel at once: one sandbox run, one verdict for all.
TEST(KernelAdmission, ConcurrentFirstCallsOfOneKernelShareOneSandboxRun) {
  auto admission = make();
  ASSERT_TRUE(admission);
  const std::string kernel = test::read_kernel("double-integer.wgsl");
  std::atomic<int> admitted{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i)
    callers.emplace_back([&] {
      if (admission->admit(request_of(kernel)).ok()) ++admitted;
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(admitted.load(), 8);
  const auto s = admission->stats();
  EXPECT_EQ(s.sandbox_runs, 1u);
  EXPECT_EQ(s.shared_runs + s.cache_hits, 7u);
}

// A new kernel's wait with the spare (a sandbox process started ahead, Dawn up) and without.
// Figures printed; both must admit.
TEST(KernelAdmission, TheSpareSandboxSavesTheStartOfDawn) {
  const std::string kernel = test::read_kernel("double-integer.wgsl");
  for (bool spare : {false, true}) {
    KernelAdmissionOptions o;
    o.spare = spare;
    auto admission = make(o);
    ASSERT_TRUE(admission);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the spare, if any, is up by now
    double fastest = 1e9;
    for (int i = 0; i < 3; ++i) {
      // Another kernel each time (a comment), so that each is new.
      const std::string k = kernel + "// " + std::to_string(i) + "\n";
      const auto start = Clock::now();
      Status s = admission->admit(request_of(k));
      fastest = std::min(fastest, seconds_since(start));
      ASSERT_TRUE(s.ok()) << s.error().message;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    std::printf("[ figures  ] a new kernel's admission %s the spare: %.0f ms (fastest of 3)\n",
                spare ? "with" : "without", fastest * 1000);
    EXPECT_EQ(admission->stats().sandbox_runs, 3u);
    EXPECT_EQ(admission->stats().admitted, 3u);
  }
}

// What a call of a known kernel pays for admission: the key (SHA-256 of the source and the rest)
// and one look-up. Figures printed; bounded loosely (a shared machine).
TEST(KernelAdmission, AKnownVerdictCostsMicroseconds) {
  auto admission = make();
  ASSERT_TRUE(admission);
  const std::string kernel = test::read_kernel("double-integer.wgsl");
  ASSERT_TRUE(admission->admit(request_of(kernel)).ok());
  const KernelRequest r = request_of(kernel);
  constexpr int kCalls = 20000;
  const auto start = Clock::now();
  int known = 0;
  for (int i = 0; i < kCalls; ++i) known += admission->known(r).has_value();
  const double us = seconds_since(start) * 1e6 / kCalls;
  std::printf("[ figures  ] known() of a %zu-byte kernel: %.2f us per call\n", kernel.size(), us);
  EXPECT_EQ(known, kCalls);
  EXPECT_LT(us, 50.0);
}

// Descriptors this process holds, and its child processes (zombies included), from /proc.
size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}
size_t child_processes() {
  size_t n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream children(task.path() / "children");
    for (long pid; children >> pid;) ++n;
  }
  return n;
}

// Every sandbox process is reaped, whatever became of its kernel, and no descriptor stays open:
// after runs that were admitted, crashed, failed to compile and timed out, only the spare is
// left (one process, one descriptor), and nothing once the admission is gone.
TEST(KernelAdmission, NoProcessOrDescriptorOutlivesItsRun) {
  const size_t fds = open_descriptors();
  const size_t children = child_processes();
  {
    KernelAdmissionOptions o;
    o.timeout = std::chrono::seconds(1);
    auto admission = make(o);
    ASSERT_TRUE(admission);
    EXPECT_TRUE(admission->admit(request_of(test::read_kernel("double-integer.wgsl"))).ok());
    EXPECT_FALSE(admission->admit(request_of(test::kSigfpeKernel)).ok());
    EXPECT_FALSE(admission->admit(request_of("@compute @workgroup_size(1) fn main() { oops; }")).ok());
    Status slow = admission->admit(request_of(test::straight_line_kernel(1 << 20)));
    ASSERT_FALSE(slow.ok());
    EXPECT_EQ(slow.error().message, "the kernel was refused: its first compile, in a sandbox, took longer than 1 s");
    EXPECT_EQ(admission->stats().sandbox_runs, 4u);
    EXPECT_EQ(child_processes(), children + 1);  // the spare
    EXPECT_EQ(open_descriptors(), fds + 1);      // its channel
  }
  EXPECT_EQ(child_processes(), children);
  EXPECT_EQ(open_descriptors(), fds);
}

// A sandbox that cannot start is no verdict about the kernel: unavailable, and not remembered.
TEST(KernelAdmission, ASandboxThatCannotStartIsNotTheKernelsFaultAndIsNotRemembered) {
  ::setenv("KEM_KERNEL_SANDBOX", "/bin/false", 1);
  auto admission = make();
  ::unsetenv("KEM_KERNEL_SANDBOX");
  ASSERT_TRUE(admission);
  const std::string kernel = test::read_kernel("double-integer.wgsl");
  for (int i = 0; i < 2; ++i) {
    Status s = admission->admit(request_of(kernel));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::unavailable);
    EXPECT_EQ(s.error().message, "the kernel sandbox could not start: it exited with status 1 before it was ready");
  }
  EXPECT_FALSE(admission->known(request_of(kernel)).has_value());
  const auto s = admission->stats();
  EXPECT_EQ(s.sandbox_runs, 2u);
  EXPECT_EQ(s.failures, 2u);
  // No helper program at all: the admission is not created.
  ::setenv("KEM_KERNEL_SANDBOX", "/nonexistent/kem-kernel-sandbox", 1);
  auto missing = KernelAdmission::create({});
  ::unsetenv("KEM_KERNEL_SANDBOX");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::internal);
}

}  // namespace
}  // namespace kem
