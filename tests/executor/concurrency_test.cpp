// Many threads calling at once, with different kernels: every result exact.
#include <atomic>
#include <future>
#include <thread>

#include "test_support.h"

namespace kem::test {
namespace {

TEST(Concurrency, SixteenThreadsTimesTwoHundredCallsOfDifferentKernels) {
  const std::string doubling = read_kernel("double-integer.wgsl");
  const std::string summing = read_kernel("workgroup-sum.wgsl");
  const std::string adding =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@group(0) @binding(2) var<uniform> p: vec4<u32>;\n"
      "@compute @workgroup_size(32) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < arrayLength(&input)) { output[id.x] = input[id.x] + p.z; }\n"
      "}\n";
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < 200; ++c) {
        const uint32_t seed = static_cast<uint32_t>(t * 1000 + c);
        auto input = random_bytes(4 * (1 + seed % 300), seed);
        auto words = to_words(input);
        KernelRequest r;
        r.input = input;
        std::vector<uint8_t> params;
        std::vector<uint8_t> expected;
        switch (c % 3) {
          case 0:
            r.source = doubling;
            expected = doubled(input, input.size());
            break;
          case 1: {
            r.source = summing;
            std::vector<uint32_t> sums(words.size(), 0);
            for (size_t i = 0; i < words.size(); ++i) sums[i / 256] += words[i];
            expected = to_bytes(sums, input.size());
            break;
          }
          default: {
            r.source = adding;
            // With params the dispatch is 2-D over width = params[0], height = params[1].
            params = u32_bytes({static_cast<uint32_t>(words.size()), 1, seed, 0});
            r.params = params;
            for (auto& w : words) w += seed;
            expected = to_bytes(words, input.size());
          }
        }
        auto out = shared_executor().run(r);
        if (!out) { if (failed++ == 0) ADD_FAILURE() << out.error().message; }
        else if (*out != expected) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

// With polling on (the GPU default), the GPU thread looks for work without the queue's lock
// before it sleeps: no call may slip past it, whether posted while it polls, just after it
// gave up, or from many threads at once.
TEST(Concurrency, AGpuThreadPollingForWorkMissesNoCall) {
  ExecutorOptions options;
  options.spin_wait = std::chrono::microseconds(300);
  options.direct_calls = false;  // every call through the queue
  auto executor = Executor::create(options);
  KEM_ASSERT_OK(executor);
  const std::string source = read_kernel("double-integer.wgsl");
  std::atomic<int> wrong{0};
  auto caller = [&](int t, int calls, std::chrono::microseconds pause) {
    for (int c = 0; c < calls; ++c) {
      auto input = random_bytes(4 * (1 + (t * 131 + c) % 64), uint32_t(t * 7919 + c));
      KernelRequest r;
      r.source = source;
      r.input = input;
      std::promise<Result<std::vector<uint8_t>>> done;
      (*executor)->submit(r, [&done](Result<OutputView> out) {
        if (out) done.set_value(std::vector<uint8_t>(out->begin(), out->end()));
        else done.set_value(out.error());
      });
      auto out = done.get_future().get();
      if (!out || *out != doubled(input, input.size())) ++wrong;
      std::this_thread::sleep_for(pause);  // lands before, during and after the GPU thread's poll
    }
  };
  caller(0, 60, std::chrono::microseconds(0));
  caller(1, 30, std::chrono::microseconds(250));
  caller(2, 20, std::chrono::microseconds(1000));
  std::vector<std::thread> threads;
  for (int t = 3; t < 11; ++t) threads.emplace_back(caller, t, 25, std::chrono::microseconds(t * 40));
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ((*executor)->stats().calls, uint64_t(60 + 30 + 20 + 8 * 25));
}

TEST(Concurrency, SubmitDeliversEveryCompletionExactlyOnce) {
  const std::string doubling = read_kernel("double-integer.wgsl");
  constexpr int kCalls = 300;
  std::vector<std::vector<uint8_t>> inputs;
  for (int i = 0; i < kCalls; ++i) inputs.push_back(random_bytes(8 + 4 * (i % 17), static_cast<uint32_t>(i)));
  std::vector<std::atomic<int>> completions(kCalls);
  std::atomic<int> correct{0};
  std::atomic<int> remaining{kCalls};
  for (int i = 0; i < kCalls; ++i) {
    KernelRequest r;
    r.source = doubling;
    r.input = inputs[i];
    shared_executor().submit(r, [&, i](Result<OutputView> out) {
      ++completions[i];
      if (out && std::vector<uint8_t>(out->begin(), out->end()) == doubled(inputs[i], inputs[i].size())) ++correct;
      --remaining;
      remaining.notify_all();
    });
  }
  for (int left = remaining.load(); left > 0; left = remaining.load()) remaining.wait(left);
  EXPECT_EQ(correct.load(), kCalls);
  for (int i = 0; i < kCalls; ++i) EXPECT_EQ(completions[i].load(), 1) << i;
}

}  // namespace
}  // namespace kem::test
