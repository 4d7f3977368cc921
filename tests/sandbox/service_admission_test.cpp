// kem::Service with admission: a kernel that kills its compiler is refused through the service,
// the refusal is remembered, and the same service keeps answering ordinary calls exactly.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <future>
#include <thread>

#include "hostile_kernels.h"
#include "kem/service.h"
#include "test_support.h"

namespace kem {
namespace {

const std::string kSigfpeRefusal = "the kernel was refused: its first compile, in a sandbox, was killed by signal 8 (SIGFPE)";

// Every u32 word doubled (wrapping), as double-integer.wgsl does; computed here, word by word.
std::vector<uint8_t> doubled_words(const std::vector<uint8_t>& input) {
  std::vector<uint8_t> out(input.size());
  for (size_t i = 0; i + 4 <= input.size(); i += 4) {
    uint32_t w;
    std::memcpy(&w, input.data() + i, 4);
    w = static_cast<uint32_t>(w * 2u);
    std::memcpy(out.data() + i, &w, 4);
  }
  return out;
}

std::unique_ptr<Service> make(ServiceOptions o = {}) {
  o.devices.adapters = {""};
  o.store.disk_cache = false;
  o.store.offline = true;
  auto created = Service::create(std::move(o));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? std::move(created).value() : nullptr;
}

KernelRequest request(const std::vector<uint8_t>& input) {
  KernelRequest r;
  r.input = input;
  return r;
}

TEST(ServiceAdmission, AfterTheSigfpeKernelIsRefusedTheServiceStillAnswersOrdinaryCallsExactly) {
  auto service = make();
  ASSERT_TRUE(service);
  const auto one = test::u32_bytes({1});
  for (int i = 0; i < 2; ++i) {
    auto refused = service->run(KernelRef::inline_source(test::kSigfpeKernel), request(one));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::compile_error);
    EXPECT_EQ(refused.error().message, kSigfpeRefusal);
  }
  auto checked = service->check(KernelRef::inline_source(test::kSigfpeKernel));
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message, kSigfpeRefusal);
  const auto a = service->admission_stats();
  EXPECT_EQ(a.sandbox_runs, 1u);
  EXPECT_EQ(a.refused, 1u);
  EXPECT_EQ(a.cache_hits, 2u);
  // The refused kernel never reached a device.
  EXPECT_EQ(service->stats().total.calls, 0u);

  const std::string kernel = test::read_kernel("double-integer.wgsl");
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const auto input = test::random_bytes(4 * (seed * 37), seed);
    auto out = service->run(KernelRef::inline_source(kernel), request(input));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, doubled_words(input)) << "seed " << seed;
  }
  EXPECT_EQ(service->admission_stats().sandbox_runs, 2u);  // one more: double-integer's
  EXPECT_EQ(service->admission_stats().admitted, 1u);
  EXPECT_EQ(service->stats().total.calls, 20u);
}

// A new kernel's sandbox run (0.1 s and more) happens on a fetch thread: submit() is back on the
// calling thread long before the call is answered, from another thread.
TEST(ServiceAdmission, ANewKernelIsAdmittedOffTheCallingThread) {
  auto service = make();
  ASSERT_TRUE(service);
  const auto input = test::random_bytes(256, 5);
  std::atomic<bool> returned{false};
  std::promise<std::tuple<std::thread::id, bool, std::vector<uint8_t>>> done;
  service->submit(KernelRef::inline_source(test::read_kernel("double-integer.wgsl")), request(input),
                  [&](Result<OutputView> out) {
                    std::vector<uint8_t> bytes;
                    if (out) bytes.assign(out->begin(), out->end());
                    done.set_value({std::this_thread::get_id(), returned.load(), bytes});
                  });
  returned = true;
  auto [thread, after_return, bytes] = done.get_future().get();
  EXPECT_NE(thread, std::this_thread::get_id());
  EXPECT_TRUE(after_return);
  EXPECT_EQ(bytes, doubled_words(input));
  EXPECT_EQ(service->admission_stats().sandbox_runs, 1u);
}

// The wait for a sandbox run comes out of the call's own time: a call whose whole timeout is
// shorter than its kernel's admission gets `timeout`, and never reaches a device.
TEST(ServiceAdmission, TheAdmissionWaitComesOutOfTheCallsTime) {
  ServiceOptions o;
  o.sandbox.spare = false;  // a whole sandbox run (tens of ms) against a 1 ms timeout
  auto service = make(o);
  ASSERT_TRUE(service);
  const auto input = test::random_bytes(64, 2);
  KernelRequest r = request(input);
  r.timeout = std::chrono::milliseconds(1);
  auto out = service->run(KernelRef::inline_source(test::read_kernel("double-integer.wgsl")), r);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::timeout);
  EXPECT_EQ(out.error().message, "the call's deadline passed while its kernel was admitted");
  EXPECT_EQ(service->stats().total.calls, 0u);
  // The kernel was admitted all the same: the next call, with time to run, is served.
  auto next = service->run(KernelRef::inline_source(test::read_kernel("double-integer.wgsl")), request(input));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(*next, doubled_words(input));
  EXPECT_EQ(service->admission_stats().sandbox_runs, 1u);
}

// With the sandbox off, kernels go straight to the devices (no sandbox run at all).
TEST(ServiceAdmission, TheSandboxCanBeTurnedOff) {
  ServiceOptions o;
  o.sandbox.enabled = false;
  auto service = make(o);
  ASSERT_TRUE(service);
  const auto input = test::random_bytes(64, 9);
  auto out = service->run(KernelRef::inline_source(test::read_kernel("double-integer.wgsl")), request(input));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, doubled_words(input));
  EXPECT_EQ(service->admission_stats().sandbox_runs, 0u);
}

}  // namespace
}  // namespace kem
