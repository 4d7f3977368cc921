// max_timeout: a call's own timeout may lower its deadline, never raise it past the cap. The
// slow call is kSpinKernel over 4,096 invocations for about 2 s on the adapter at hand
// (measured: 2^21 rounds on lavapipe, far more on the H200), past the caps used here, so each
// deadline is what ends it; and not much more, since the abandoned device's driver goes on
// computing it on the CPU (lavapipe) that the next calls need.
#include "test_support.h"

#include <chrono>
#include <thread>

namespace kem::test {
namespace {

using namespace std::chrono_literals;

const std::vector<uint8_t>& slow_input() {
  static const std::vector<uint8_t> input = [] {
    ExecutorOptions options;
    options.loop_budget = kSpinLoopBudget;
    auto calibrating = Executor::create(options);
    EXPECT_TRUE(calibrating.ok()) << calibrating.error().message;
    const uint32_t rounds = calibrating.ok() ? spin_iterations_lasting(**calibrating, 2s, 4096) : 1u << 21;
    std::vector<uint8_t> bytes = u32_bytes({rounds});
    bytes.resize(16384, 0);
    return bytes;
  }();
  return input;
}

std::unique_ptr<Executor> capped_executor(std::chrono::milliseconds default_timeout, std::chrono::milliseconds cap) {
  ExecutorOptions options;
  options.loop_budget = kSpinLoopBudget;  // the calibrated slow call may need more than 2^24 rounds
  options.default_timeout = default_timeout;
  options.max_timeout = cap;
  auto executor = Executor::create(options);
  EXPECT_TRUE(executor.ok()) << executor.error().message;
  return executor.ok() ? std::move(executor).value() : nullptr;
}

// The executor still serves, with exact results, after a call was cut off. The abandoned
// device's driver may still be running the cut-off kernel on the CPU for seconds, and a call
// may take no more than the small cap here: a call that times out meanwhile is tried again.
void expect_serving(Executor& executor) {
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input{1, 3, 5, 7};
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.timeout = 800ms;  // the cap
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  auto out = executor.run(r);
  while (!out.ok() && out.error().code == ErrorCode::timeout && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(500ms);  // let the abandoned kernel finish rather than abandon more devices
    out = executor.run(r);
  }
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, (std::vector<uint8_t>{2, 6, 10, 14}));
}

TEST(TimeoutCap, ADayLongTimeoutEndsAtMaxTimeoutWithAClearError) {
  auto executor = capped_executor(500ms, 800ms);
  ASSERT_TRUE(executor);
  const auto& input = slow_input();
  KernelRequest slow;
  slow.source = kSpinKernel;
  slow.input = input;
  slow.timeout = std::chrono::hours(24);
  const auto start = std::chrono::steady_clock::now();
  auto out = executor->run(slow);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::timeout);
  EXPECT_EQ(out.error().message,
            "the call did not finish before its deadline (800 ms: the node's max_timeout, less than the call asked for)");
  EXPECT_GE(waited, 790ms);
  EXPECT_LT(waited, 2500ms);  // at the cap, not when the kernel ends (seconds) nor after a day
  expect_serving(*executor);
}

TEST(TimeoutCap, ATimeoutBelowTheCapIsTheCallsOwn) {
  auto executor = capped_executor(500ms, 800ms);
  ASSERT_TRUE(executor);
  const auto& input = slow_input();
  KernelRequest slow;
  slow.source = kSpinKernel;
  slow.input = input;
  slow.timeout = 150ms;
  const auto start = std::chrono::steady_clock::now();
  auto out = executor->run(slow);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::timeout);
  EXPECT_EQ(out.error().message, "the call did not finish before its deadline (150 ms)");
  EXPECT_LT(waited, 700ms);
  // Without a timeout of its own: default_timeout.
  slow.timeout.reset();
  auto by_default = executor->run(slow);
  ASSERT_FALSE(by_default.ok());
  EXPECT_EQ(by_default.error().code, ErrorCode::timeout);
  // Running, or still waiting for its fresh device (the abandoned one's kernel holds the CPU).
  EXPECT_TRUE(by_default.error().message.ends_with(" before its deadline (500 ms)") ||
              by_default.error().message.ends_with(" past its deadline (500 ms)"))
      << by_default.error().message;
  expect_serving(*executor);
}

TEST(TimeoutCap, ADefaultAboveTheCapIsRefused) {
  ExecutorOptions options;
  options.default_timeout = 60000ms;
  options.max_timeout = 30000ms;
  auto executor = Executor::create(options);
  ASSERT_FALSE(executor.ok());
  EXPECT_EQ(executor.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(executor.error().message, "default_timeout (60000 ms) is above max_timeout (30000 ms)");
}

TEST(TimeoutCap, TheCapIsTheDefaultTimeoutUnlessSet) {
  const ExecutorOptions options;
  EXPECT_EQ(options.max_timeout, options.default_timeout);
  EXPECT_EQ(call_timeout(options, std::chrono::hours(24)).timeout, 30000ms);
  EXPECT_TRUE(call_timeout(options, std::chrono::hours(24)).capped);
  EXPECT_EQ(call_timeout(options, 30001ms).timeout, 30000ms);
  EXPECT_FALSE(call_timeout(options, 30000ms).capped);
  EXPECT_EQ(call_timeout(options, 10ms).timeout, 10ms);
  EXPECT_EQ(call_timeout(options, std::nullopt).timeout, 30000ms);
}

}  // namespace
}  // namespace kem::test
