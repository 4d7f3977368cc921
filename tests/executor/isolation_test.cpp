// Nothing of one call is visible to a later call, although buffers are reused.
#include "test_support.h"

namespace kem::test {
namespace {

TEST(Isolation, OutputOfAKernelThatWritesNothingIsZero) {
  const std::string fill =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < arrayLength(&output)) { output[id.x] = 0xABABABABu + input[0] * 0u; }\n"
      "}\n";
  const std::string nothing =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (input[0] == 0xFFFFFFFFu) { output[0] = 1u; }\n"
      "}\n";
  std::vector<uint8_t> input(64 * 1024, 7);
  auto a = run(fill, input);
  KEM_ASSERT_OK(a);
  EXPECT_EQ(*a, std::vector<uint8_t>(input.size(), 0xAB));
  auto b = run(nothing, input);
  KEM_ASSERT_OK(b);
  EXPECT_EQ(*b, std::vector<uint8_t>(input.size(), 0));
}

TEST(Isolation, ReadsPastTheInputNeverSeeAnEarlierCallsInput) {
  // B copies 64 KiB worth of "input" while its own input is 4 bytes: reads past its binding
  // must not reach the 0x5A bytes that A's call left in the (reused) input buffer.
  const std::string copy =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < arrayLength(&output)) { output[id.x] = input[id.x]; }\n"
      "}\n";
  std::vector<uint8_t> secret(64 * 1024, 0x5A);
  KEM_ASSERT_OK(run(copy, secret));
  auto b = run(copy, {1, 2, 3, 4}, 16 * 1024);
  KEM_ASSERT_OK(b);
  ASSERT_EQ(b->size(), 64u * 1024);
  for (size_t i = 0; i < b->size(); i += 4) {
    uint32_t w;
    std::memcpy(&w, b->data() + i, 4);
    ASSERT_TRUE(w == 0 || w == 0x04030201u) << "word " << i / 4 << " = " << std::hex << w;
  }
}

TEST(Isolation, ARaggedInputTailIsZeroPaddedNotLeftOver) {
  const std::string copy =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() { output[0] = input[0]; }\n";
  KEM_ASSERT_OK(run(copy, {0xEE, 0xEE, 0xEE, 0xEE}));
  // One byte of input: the other three bytes of its word must be zero, not 0xEE.
  KernelRequest r;
  r.source = copy;
  std::vector<uint8_t> one{0x11};
  r.input = one;
  r.output_size = 4;
  auto out = shared_executor().run(r);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, (std::vector<uint8_t>{0x11, 0, 0, 0}));
}

}  // namespace
}  // namespace kem::test
