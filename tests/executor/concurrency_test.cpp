// Many threads calling at once, with different kernels: every result exact.
#include <atomic>
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
