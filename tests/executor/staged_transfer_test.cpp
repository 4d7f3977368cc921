// Large calls move their bytes through KEM's mapped staging buffers in chunks. Small chunk sizes
// here make every test cross many chunk boundaries and reuse every staging slot several times.
#include "test_support.h"

namespace kem::test {
namespace {

std::unique_ptr<Executor> staged_executor() {
  ExecutorOptions options;
  options.staged_transfer_bytes = 4096;  // everything from 4 KiB goes staged...
  options.staging_chunk_bytes = 64 << 10;  // ...in 64 KiB chunks, 3 slots each way
  auto created = Executor::create(options);
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created ? std::move(created).value() : nullptr;
}

TEST(StagedTransfer, RaggedInputAcrossManyChunksWithALargerOutput) {
  auto executor = staged_executor();
  ASSERT_TRUE(executor);
  const std::string doubler = read_kernel("double-integer.wgsl");
  for (size_t size : {size_t(4096), size_t(1 << 20) + 3, size_t(700001)}) {
    auto input = random_bytes(size, static_cast<uint32_t>(size));
    KernelRequest r;
    r.source = doubler;
    r.input = input;
    r.output_size_hint = 2;  // the output crosses twice as many chunks as the input
    auto out = executor->run(r);
    KEM_ASSERT_OK(out);
    EXPECT_EQ(*out, doubled(input, size * 2)) << "size " << size;
  }
}

TEST(StagedTransfer, OutputIntoTheCallersMemory) {
  auto executor = staged_executor();
  ASSERT_TRUE(executor);
  const std::string doubler = read_kernel("double-integer.wgsl");
  auto input = random_bytes(300000, 7);
  std::vector<uint8_t> mine(input.size() + 16, 0xCC);  // the 16 bytes past the output stay as they are
  uint64_t asked = 0;
  KernelRequest r;
  r.source = doubler;
  r.input = input;
  r.output_into = [&](uint64_t bytes) {
    asked = bytes;
    return mine.data();
  };
  std::promise<std::pair<const uint8_t*, size_t>> seen;
  executor->submit(r, [&](Result<OutputView> out) {
    ASSERT_TRUE(out.ok()) << out.error().message;
    seen.set_value({out->data(), out->size()});
  });
  auto [where, size] = seen.get_future().get();
  EXPECT_EQ(asked, input.size());
  EXPECT_EQ(where, mine.data());
  EXPECT_EQ(size, input.size());
  EXPECT_EQ(std::vector<uint8_t>(mine.begin(), mine.begin() + input.size()), doubled(input, input.size()));
  EXPECT_EQ(std::vector<uint8_t>(mine.end() - 16, mine.end()), std::vector<uint8_t>(16, 0xCC));
}

TEST(StagedTransfer, OutputIntoGivingNoMemoryFailsTheCallAndTheNextOneWorks) {
  auto executor = staged_executor();
  ASSERT_TRUE(executor);
  const std::string doubler = read_kernel("double-integer.wgsl");
  auto input = random_bytes(200000, 8);
  KernelRequest r;
  r.source = doubler;
  r.input = input;
  r.output_into = [](uint64_t) -> uint8_t* { return nullptr; };
  std::promise<Result<size_t>> result;
  executor->submit(r, [&](Result<OutputView> out) {
    if (out) result.set_value(out->size());
    else result.set_value(out.error());
  });
  auto got = result.get_future().get();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::limit_exceeded);
  r.output_into = nullptr;
  auto out = executor->run(r);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, doubled(input, input.size()));
}

TEST(StagedTransfer, ALargeCallSeesNothingOfTheLargerCallBeforeIt) {
  auto executor = staged_executor();
  ASSERT_TRUE(executor);
  const std::string copy =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < arrayLength(&output)) { output[id.x] = input[id.x]; }\n"
      "}\n";
  std::vector<uint8_t> secret(1 << 20, 0x5A);
  KernelRequest a;
  a.source = copy;
  a.input = secret;
  KEM_ASSERT_OK(executor->run(a));
  // 8 KiB of input, 512 KiB of output: reads past the input must not reach the 0x5A bytes left
  // in the staging slots and the input buffer; the output past what the kernel writes is zero.
  std::vector<uint8_t> own(8192, 0x11);
  KernelRequest b;
  b.source = copy;
  b.input = own;
  b.output_size_hint = 64;
  auto out = executor->run(b);
  KEM_ASSERT_OK(out);
  const auto words = to_words(*out);
  for (size_t i = 0; i < words.size(); ++i) ASSERT_TRUE(words[i] == 0 || words[i] == 0x11111111u) << "word " << i;
  EXPECT_EQ(words[0], 0x11111111u);
}

TEST(StagedTransfer, ABudgetExceededInAStagedCallDiscardsItsOutput) {
  auto executor = staged_executor();
  ASSERT_TRUE(executor);
  const std::string runaway =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x >= arrayLength(&output)) { return; }\n"
      "  loop { output[id.x] += 1u; if (input[0] == 0xFFFFFFFFu) { break; } }\n"
      "}\n";
  std::vector<uint8_t> input(1 << 16, 0);
  KernelRequest r;
  r.source = runaway;
  r.input = input;
  r.loop_budget = 100;
  auto out = executor->run(r);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::budget_exceeded);
  const std::string doubler = read_kernel("double-integer.wgsl");
  auto again = random_bytes(100000, 9);
  KernelRequest next;
  next.source = doubler;
  next.input = again;
  auto ok = executor->run(next);
  KEM_ASSERT_OK(ok);
  EXPECT_EQ(*ok, doubled(again, again.size()));
}

}  // namespace
}  // namespace kem::test
