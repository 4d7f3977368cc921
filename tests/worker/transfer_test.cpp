// Bytes through the GPU worker's boundary: small calls inside the messages, large ones through
// shared-memory arenas that are reused across calls. Every output is compared with the CPU's,
// and a reused arena must not show one call's bytes to the next.
#include <gtest/gtest.h>

#include "worker_test_support.h"

namespace kem {
namespace {

// Writes only its first word: everything else of its output must be zero, whatever the arena
// held before (docs/kernel-contract.md: outputs start zeroed).
const char* const kFirstWordKernel =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(1) fn main() { output[0] = input[0] + 1u; }\n";

class WorkerTransfer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { service_ = test::make_service(test::worker_service_options()).release(); }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
  }
  static Service* service_;
  const std::string doubler_ = test::read_kernel("double-integer.wgsl");
};
Service* WorkerTransfer::service_ = nullptr;

TEST_F(WorkerTransfer, SmallAndLargeCallsAreExactOnEitherSideOfTheInlineLimit) {
  ASSERT_TRUE(service_);
  // 32 KiB is the largest input that travels inside the message; the others go through arenas.
  for (size_t bytes : {4u, 1000u, 32u << 10, (32u << 10) + 4, 1u << 20, 6u << 20, 8u << 20}) {
    auto input = test::random_bytes(bytes, static_cast<uint32_t>(bytes));
    KernelRequest r;
    r.input = input;
    auto out = service_->run(KernelRef::inline_source(doubler_), r);
    ASSERT_TRUE(out.ok()) << bytes << ": " << out.error().message;
    EXPECT_EQ(*out, test::doubled(input, input.size())) << bytes << " bytes";
  }
}

TEST_F(WorkerTransfer, OutputsGoStraightIntoTheCallersMemory) {
  ASSERT_TRUE(service_);
  for (size_t bytes : {64u, 4u << 20}) {
    auto input = test::random_bytes(bytes, 99);
    std::vector<uint8_t> destination;
    std::promise<Result<size_t>> done;
    KernelRequest r;
    r.input = input;
    r.output_into = [&](uint64_t n) {
      destination.resize(n);
      return destination.data();
    };
    service_->submit(KernelRef::inline_source(doubler_), r, [&](Result<OutputView> out) {
      if (!out) return done.set_value(out.take_error());
      // The view is the caller's memory, not a copy elsewhere.
      EXPECT_EQ(out->data(), destination.data());
      done.set_value(out->size());
    });
    auto n = done.get_future().get();
    ASSERT_TRUE(n.ok()) << n.error().message;
    EXPECT_EQ(*n, bytes);
    EXPECT_EQ(destination, test::doubled(input, input.size()));
  }
}

TEST_F(WorkerTransfer, AReusedArenaShowsNoBytesOfTheCallBefore) {
  ASSERT_TRUE(service_);
  // A large call fills an arena's input and output with its bytes...
  auto input = test::random_bytes(2u << 20, 5);
  KernelRequest big;
  big.input = input;
  auto first = service_->run(KernelRef::inline_source(doubler_), big);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(*first, test::doubled(input, input.size()));
  // ...the next, of the same size class, writes one word: the rest must be zeros.
  auto small_input = test::u32_bytes({41});
  KernelRequest next;
  next.input = small_input;
  next.output_size = 2u << 20;
  next.workgroups = std::array<uint32_t, 3>{1, 1, 1};
  auto out = service_->run(KernelRef::inline_source(kFirstWordKernel), next);
  ASSERT_TRUE(out.ok()) << out.error().message;
  std::vector<uint8_t> expected(2u << 20, 0);
  expected[0] = 42;
  EXPECT_EQ(*out, expected);
}

TEST_F(WorkerTransfer, ManyKernelsAndConcurrentCallersGetTheirOwnResults) {
  ASSERT_TRUE(service_);
  // Distinct sources each get their own key; calls from several threads interleave on the socket.
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (uint32_t i = 0; i < 25; ++i) {
        const uint32_t add = t * 100 + i;
        const std::string source =
            "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
            "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
            "@compute @workgroup_size(1) fn main() { output[0] = input[0] + " +
            std::to_string(add) + "u; }\n";
        auto in = test::u32_bytes({i});
        KernelRequest r;
        r.input = in;
        auto out = service_->run(KernelRef::inline_source(source), r);
        if (!out || *out != test::u32_bytes({i + add})) ++wrong;
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(WorkerTransfer, ErrorsCrossTheBoundaryWithTheirCodeAndMessage) {
  ASSERT_TRUE(service_);
  std::vector<uint8_t> input(4, 0);
  KernelRequest r;
  r.input = input;
  auto bad = service_->run(KernelRef::inline_source("@compute @workgroup_size(1) fn main() { let x = ; }"), r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::compile_error);
  EXPECT_EQ(bad.error().message.rfind("1:", 0), 0u) << bad.error().message;  // LINE:COL first
  auto checked = service_->check(KernelRef::inline_source(doubler_));
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  ASSERT_EQ(checked->entry_points.size(), 1u);
  EXPECT_EQ(checked->entry_points[0].name, "main");
  const auto stats = service_->stats();
  EXPECT_GE(stats.total.calls, 1u);
  EXPECT_GE(stats.total.errors, 1u);
}

}  // namespace
}  // namespace kem
