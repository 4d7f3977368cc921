// The threading model of kem/executor.h: every thread the executor starts (GPU thread,
// retirement thread, staging copy threads) is joined by the time its destructor returns.
#include "test_support.h"

#include <filesystem>

namespace kem::test {
namespace {

size_t threads_of_this_process() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Lost and abandoned devices used to be destroyed on detached threads that could outlive the
// executor (and the options and counters their sessions refer to).
TEST(Threads, AnExecutorJoinsEveryThreadItStartedWhenDestroyed) {
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> small{1, 3, 5, 7};
  std::vector<uint8_t> large(64u << 10, 1);
  std::vector<uint8_t> slow_input;
  {
    // A first executor, so that whatever the driver and Dawn start once per process is counted;
    // it also measures how many spin iterations last well past 50 ms on this adapter.
    ExecutorOptions options;
    options.loop_budget = kSpinLoopBudget;
    auto warm = Executor::create(options);
    KEM_ASSERT_OK(warm);
    slow_input = u32_bytes({spin_iterations_lasting(**warm, std::chrono::milliseconds(500), 4096)});
    slow_input.resize(16384, 0);
  }
  const size_t before = threads_of_this_process();
  {
    ExecutorOptions options;
    options.staged_transfer_bytes = 4096;  // the large call goes staged: copy threads
    options.staging_chunk_bytes = 16384;
    options.staging_copy_threads = 2;
    options.loop_budget = kSpinLoopBudget;
    auto executor = Executor::create(options);
    KEM_ASSERT_OK(executor);
    KernelRequest r;
    r.source = source;
    r.input = large;
    KEM_ASSERT_OK((*executor)->run(r));
    (*executor)->simulate_device_loss();  // the next call retires this device
    r.input = small;
    KEM_ASSERT_OK((*executor)->run(r));
    KernelRequest slow;
    slow.source = kSpinKernel;
    slow.input = slow_input;
    slow.timeout = std::chrono::milliseconds(50);
    auto timed_out = (*executor)->run(slow);  // abandons a device still running a kernel
    ASSERT_FALSE(timed_out.ok());
    EXPECT_EQ(timed_out.error().code, ErrorCode::timeout);
    KEM_ASSERT_OK((*executor)->run(r));  // retires it
    EXPECT_EQ((*executor)->stats().device_losses, 2u);
  }
  EXPECT_EQ(threads_of_this_process(), before);
}

}  // namespace
}  // namespace kem::test
