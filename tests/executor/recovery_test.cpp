// Device loss and deadlines: the failing call gets an error, the executor keeps serving.
#include "test_support.h"

#include <future>
#include <thread>

namespace kem::test {
namespace {

TEST(Recovery, NextCallAfterADeviceLossGetsANewDevice) {
  auto executor = Executor::create();
  KEM_ASSERT_OK(executor);
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input{1, 3, 5, 7};
  KernelRequest r;
  r.source = source;
  r.input = input;
  KEM_ASSERT_OK((*executor)->run(r));
  (*executor)->simulate_device_loss();
  auto out = (*executor)->run(r);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, (std::vector<uint8_t>{2, 6, 10, 14}));
  EXPECT_EQ((*executor)->stats().device_losses, 1u);
}

// An operator's node lives for months: executors come and go (pools, restarts of the NIF) and
// devices are replaced after losses. On the H200 a process once found only Dawn's Null
// backend after a dozen or so instances; this holds the line for both kinds of churn.
TEST(Recovery, ExecutorsAndDevicesReplacedManyTimesInOneProcessKeepServing) {
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input{1, 3, 5, 7};
  const std::vector<uint8_t> expected{2, 6, 10, 14};
  KernelRequest r;
  r.source = source;
  r.input = input;
  constexpr int kRounds = 24;
  for (int i = 0; i < kRounds; ++i) {
    auto executor = Executor::create();
    KEM_ASSERT_OK(executor) << "executor " << i;
    auto out = (*executor)->run(r);
    KEM_ASSERT_OK(out) << "executor " << i;
    EXPECT_EQ(*out, expected);
  }
  auto executor = Executor::create();
  KEM_ASSERT_OK(executor);
  for (int i = 0; i < kRounds; ++i) {
    (*executor)->simulate_device_loss();
    auto out = (*executor)->run(r);
    KEM_ASSERT_OK(out) << "device " << i;
    EXPECT_EQ(*out, expected);
  }
  EXPECT_EQ((*executor)->stats().device_losses, uint64_t(kRounds));
}

TEST(Recovery, ACallPastItsDeadlineTimesOutAndTheExecutorKeepsServing) {
  auto executor = Executor::create();
  KEM_ASSERT_OK(executor);
  // About 2^22 iterations x 4096 invocations: seconds on a CPU driver, far past 50 ms.
  std::vector<uint8_t> slow_input = u32_bytes({1u << 22});
  slow_input.resize(16384, 0);
  KernelRequest slow;
  slow.source = kSpinKernel;
  slow.input = slow_input;
  slow.timeout = std::chrono::milliseconds(50);
  auto start = std::chrono::steady_clock::now();
  auto timed_out = (*executor)->run(slow);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, ErrorCode::timeout) << timed_out.error().message;
  EXPECT_LT(waited, std::chrono::seconds(2));

  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input{1, 3, 5, 7};
  KernelRequest r;
  r.source = source;
  r.input = input;
  auto out = (*executor)->run(r);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, (std::vector<uint8_t>{2, 6, 10, 14}));
}

TEST(Recovery, ACallThatWaitedInTheQueuePastItsDeadlineIsAnsweredThenAndNeverRun) {
  ExecutorOptions options;
  options.loop_budget = kSpinLoopBudget;
  auto executor = Executor::create(options);
  KEM_ASSERT_OK(executor);
  // About two seconds of work on this adapter.
  std::vector<uint8_t> slow_input = u32_bytes({spin_iterations_lasting(**executor, std::chrono::seconds(2), 1024)});
  slow_input.resize(4096, 0);
  KernelRequest slow;
  slow.source = kSpinKernel;
  slow.input = slow_input;
  const uint64_t submissions_before = (*executor)->stats().submissions;
  std::promise<bool> slow_done;
  (*executor)->submit(slow, [&](Result<OutputView> out) { slow_done.set_value(out.ok()); });
  // Let the slow call start alone: a call queued with it would be batched with it instead
  // (batching_test covers that case).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input{1, 3, 5, 7};
  KernelRequest quick;
  quick.source = source;
  quick.input = input;
  quick.timeout = std::chrono::milliseconds(100);
  const auto start = std::chrono::steady_clock::now();
  auto out = (*executor)->run(quick);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::timeout);
  // Answered at its deadline, not when the GPU thread got to it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  auto slow_future = slow_done.get_future();
  EXPECT_TRUE(slow_future.get());
  // Only the slow call reached the GPU.
  EXPECT_EQ((*executor)->stats().submissions - submissions_before, 1u);
}

}  // namespace
}  // namespace kem::test
