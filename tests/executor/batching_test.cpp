// Batching: calls queued while the GPU is busy share one submission and one readback. Each must
// still get exactly its own result, see nothing of its neighbours, and keep its own deadline.
#include "test_support.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace kem::test {
namespace {

const char* kFill =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  if (id.x < arrayLength(&output)) { output[id.x] = 0xABABABABu + input[0] * 0u; }\n"
    "}\n";
const char* kWritesNothing =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  if (input[0] == 0xFFFFFFFFu) { output[0] = 1u; }\n"
    "}\n";
const char* kCopy =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  if (id.x < arrayLength(&output)) { output[id.x] = input[id.x]; }\n"
    "}\n";
const char* kRunaway =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(1) fn main() {\n"
    "  loop { output[0] += 1u; if (input[0] == 0xFFFFFFFFu) { break; } }\n"
    "}\n";

// Collects results of submitted calls; the results are copied out inside the completion, the
// only time the output view is valid.
struct Results {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::optional<Result<std::vector<uint8_t>>>> slots;
  size_t answered = 0;

  explicit Results(size_t n) : slots(n) {}
  Completion slot(size_t i) {
    return [this, i](Result<OutputView> out) {
      std::lock_guard lock(mutex);
      if (out) slots[i] = Result<std::vector<uint8_t>>(std::vector<uint8_t>(out->begin(), out->end()));
      else slots[i] = Result<std::vector<uint8_t>>(out.error());
      ++answered;
      changed.notify_all();
    };
  }
  void wait_all() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return answered == slots.size(); });
  }
};

// The busy call's input: `rounds` LCG rounds in each of 1,024 invocations.
std::vector<uint8_t> busy_input(uint32_t rounds) {
  std::vector<uint8_t> input = u32_bytes({rounds});
  input.resize(4096, 0);
  return input;
}

// Compiles the kernels once, so that a batch under test is not split by compile time.
void warm(Executor& executor, std::initializer_list<std::string_view> sources) {
  const std::vector<uint8_t> one_word = u32_bytes({1});
  for (std::string_view source : sources) {
    KernelRequest r;
    r.source = source;
    r.input = one_word;
    auto out = executor.run(r);
    EXPECT_TRUE(out.ok()) << out.error().message;
  }
}

// Submits a call that keeps the GPU thread busy, so that what is submitted next queues up and
// goes to the GPU as one batch. Its own result is checked by the caller through `results`.
void occupy_gpu(Executor& executor, const std::vector<uint8_t>& input, Completion done) {
  KernelRequest busy;
  busy.source = kSpinKernel;
  busy.input = input;
  executor.submit(busy, std::move(done));
}

TEST(Batching, CallsQueuedBehindABusyGpuShareASubmissionAndEachGetsItsOwnResult) {
  auto executor = Executor::create();
  KEM_ASSERT_OK(executor);
  Executor& ex = **executor;
  const std::vector<uint8_t> busy = busy_input(1u << 16);

  const std::string doubler = read_kernel("double-integer.wgsl");
  warm(ex, {doubler});

  constexpr size_t kCalls = 48;
  std::vector<std::vector<uint8_t>> inputs(kCalls);
  std::vector<uint64_t> hints(kCalls);
  for (size_t i = 0; i < kCalls; ++i) {
    inputs[i] = random_bytes(1 + (i * 397) % 5000, static_cast<uint32_t>(i));  // ragged lengths too
    hints[i] = 1 + i % 3;
  }
  Results results(kCalls + 1);
  const uint64_t submissions_before = ex.stats().submissions;
  occupy_gpu(ex, busy, results.slot(kCalls));
  for (size_t i = 0; i < kCalls; ++i) {
    KernelRequest r;
    r.source = doubler;
    r.input = inputs[i];
    r.output_size_hint = hints[i];
    ex.submit(r, results.slot(i));
  }
  results.wait_all();
  for (size_t i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results.slots[i]->ok()) << results.slots[i]->error().message;
    EXPECT_EQ(results.slots[i]->value(), doubled(inputs[i], inputs[i].size() * hints[i])) << "call " << i;
  }
  KEM_ASSERT_OK(*results.slots[kCalls]);
  EXPECT_EQ(to_words(results.slots[kCalls]->value())[5], spin_reference(5, 1u << 16));
  // The busy call, then the 48 together (a loaded machine may split them once or twice).
  EXPECT_LE(ex.stats().submissions - submissions_before, 4u);
}

TEST(Batching, NeighboursInABatchSeeNothingOfEachOther) {
  auto executor = Executor::create();
  KEM_ASSERT_OK(executor);
  Executor& ex = **executor;
  const std::vector<uint8_t> busy = busy_input(1u << 16);
  warm(ex, {kFill, kWritesNothing, kCopy});
  std::vector<uint8_t> secret(4096, 0x5A);
  std::vector<uint8_t> small{1, 2, 3, 4};

  // First batch: every slot is filled with 0xAB and every input slot with 0x5A bytes.
  constexpr size_t kCalls = 32;
  Results first(kCalls + 1);
  occupy_gpu(ex, busy, first.slot(kCalls));
  for (size_t i = 0; i < kCalls; ++i) {
    KernelRequest r;
    r.source = kFill;
    r.input = secret;
    ex.submit(r, first.slot(i));
  }
  first.wait_all();
  for (size_t i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(first.slots[i]->ok()) << first.slots[i]->error().message;
    EXPECT_EQ(first.slots[i]->value(), std::vector<uint8_t>(secret.size(), 0xAB));
  }

  // Second batch, same slots: kernels that write nothing get zeros; kernels that read far past
  // their 4-byte input see only their own word (or zero), never a neighbour's 0x5A bytes.
  Results second(kCalls + 1);
  occupy_gpu(ex, busy, second.slot(kCalls));
  for (size_t i = 0; i < kCalls; ++i) {
    KernelRequest r;
    if (i % 2 == 0) {
      r.source = kWritesNothing;
      r.input = secret;
    } else {
      r.source = kCopy;
      r.input = small;
      r.output_size_hint = 1024;
    }
    ex.submit(r, second.slot(i));
  }
  second.wait_all();
  for (size_t i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(second.slots[i]->ok()) << second.slots[i]->error().message;
    const auto& out = second.slots[i]->value();
    if (i % 2 == 0) {
      EXPECT_EQ(out, std::vector<uint8_t>(secret.size(), 0)) << "call " << i;
    } else {
      ASSERT_EQ(out.size(), 4096u);
      for (uint32_t w : to_words(out)) ASSERT_TRUE(w == 0 || w == 0x04030201u) << "call " << i << std::hex << " " << w;
    }
  }
}

TEST(Batching, ARunawayKernelInABatchFailsAloneAndItsNeighboursSucceed) {
  auto executor = Executor::create();
  KEM_ASSERT_OK(executor);
  Executor& ex = **executor;
  const std::vector<uint8_t> busy = busy_input(1u << 16);
  const std::string doubler = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> zero(4, 0);
  constexpr size_t kCalls = 9;
  std::vector<std::vector<uint8_t>> inputs(kCalls);
  Results results(kCalls + 1);
  occupy_gpu(ex, busy, results.slot(kCalls));
  for (size_t i = 0; i < kCalls; ++i) {
    KernelRequest r;
    if (i == 4) {
      r.source = kRunaway;
      r.input = zero;
      r.loop_budget = 1000;
    } else {
      inputs[i] = random_bytes(64, static_cast<uint32_t>(100 + i));
      r.source = doubler;
      r.input = inputs[i];
    }
    ex.submit(r, results.slot(i));
  }
  results.wait_all();
  for (size_t i = 0; i < kCalls; ++i) {
    if (i == 4) {
      ASSERT_FALSE(results.slots[i]->ok());
      EXPECT_EQ(results.slots[i]->error().code, ErrorCode::budget_exceeded);
    } else {
      ASSERT_TRUE(results.slots[i]->ok()) << results.slots[i]->error().message;
      EXPECT_EQ(results.slots[i]->value(), doubled(inputs[i], 64));
    }
  }
}

TEST(Batching, ACallWhoseDeadlinePassesWhileTheGpuIsBusyIsAnsweredThenAndTheBusyCallFinishes) {
  ExecutorOptions options;
  options.loop_budget = kSpinLoopBudget;
  auto executor = Executor::create(options);
  KEM_ASSERT_OK(executor);
  Executor& ex = **executor;
  const std::vector<uint8_t> busy = busy_input(1u << 14);
  // The long neighbour: about 4 s on this adapter (measured), far past the quick call's deadline.
  const uint32_t long_rounds = spin_iterations_lasting(ex, std::chrono::seconds(4), 1024);
  const std::vector<uint8_t> long_input = busy_input(long_rounds);
  const std::string doubler = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> small{1, 3, 5, 7};
  warm(ex, {kSpinKernel, doubler});

  Results results(2);
  occupy_gpu(ex, busy, results.slot(0));
  KernelRequest long_call;
  long_call.source = kSpinKernel;
  long_call.input = long_input;
  long_call.timeout = std::chrono::seconds(120);
  ex.submit(long_call, results.slot(1));
  KernelRequest quick;
  quick.source = doubler;
  quick.input = small;
  // Outlives the busy call but not the long neighbour. Whether it joins the long call's batch or
  // waits in the queue behind it, it is answered at its deadline.
  const auto busy_started = std::chrono::steady_clock::now();
  quick.timeout = std::chrono::milliseconds(1000);
  std::promise<Result<std::vector<uint8_t>>> quick_result;
  ex.submit(quick, [&](Result<OutputView> out) {
    if (out) quick_result.set_value(std::vector<uint8_t>(out->begin(), out->end()));
    else quick_result.set_value(out.error());
  });
  auto answered = quick_result.get_future().get();
  const auto waited = std::chrono::steady_clock::now() - busy_started;
  ASSERT_FALSE(answered.ok());
  EXPECT_EQ(answered.error().code, ErrorCode::timeout) << answered.error().message;
  EXPECT_LT(waited, std::chrono::milliseconds(2000));  // at its deadline, not when the batch ends
  {
    std::lock_guard lock(results.mutex);
    EXPECT_FALSE(results.slots[1].has_value()) << "the long neighbour should still be running";
  }
  results.wait_all();
  ASSERT_TRUE(results.slots[1]->ok()) << results.slots[1]->error().message;
  const auto words = to_words(results.slots[1]->value());
  for (uint32_t i : {0u, 1u, 63u})
    EXPECT_EQ(words[i], spin_reference(i, long_rounds)) << "word " << i;
  // The device survived: the next call runs.
  auto next = ex.run(quick);
  KEM_ASSERT_OK(next);
  EXPECT_EQ(*next, (std::vector<uint8_t>{2, 6, 10, 14}));
}

}  // namespace
}  // namespace kem::test
