// Workgroup sizes other than 256, and 2-D / 3-D dispatch shapes.
#include "test_support.h"

namespace kem::test {
namespace {

// Each invocation writes its linear global index + 1 at that index.
std::string index_kernel(uint32_t x, uint32_t y, uint32_t z) {
  return "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
         "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
         "@compute @workgroup_size(" + std::to_string(x) + ", " + std::to_string(y) + ", " + std::to_string(z) + ")\n"
         "fn main(@builtin(global_invocation_id) id: vec3<u32>,\n"
         "        @builtin(num_workgroups) n: vec3<u32>) {\n"
         "  let w = n.x * " + std::to_string(x) + "u;\n"
         "  let h = n.y * " + std::to_string(y) + "u;\n"
         "  let i = id.x + w * (id.y + h * id.z);\n"
         "  if (i < arrayLength(&output)) { output[i] = i + 1u + input[0] * 0u; }\n"
         "}\n";
}

TEST(DispatchShapes, DefaultOneDimensionalDispatchUsesTheKernelsWorkgroupSize) {
  // With 1000 output words, a kernel of size S needs ceil(1000/S) groups; assuming 256 (the
  // proof of concept) would leave words unwritten for S < 256.
  for (uint32_t size : {1u, 7u, 32u, 64u, 100u, 255u, 256u, 1024u}) {
    std::vector<uint8_t> input(4000, 1);
    auto out = run(index_kernel(size, 1, 1), input);
    KEM_ASSERT_OK(out);
    std::vector<uint32_t> expected(1000);
    for (uint32_t i = 0; i < 1000; ++i) expected[i] = i + 1;
    EXPECT_EQ(*out, to_bytes(expected, 4000)) << "workgroup size " << size;
  }
}

TEST(DispatchShapes, ExplicitTwoAndThreeDimensionalWorkgroups) {
  struct Case {
    std::array<uint32_t, 3> size, groups;
  } cases[] = {{{8, 8, 1}, {3, 5, 1}}, {{4, 2, 2}, {2, 3, 4}}, {{1, 1, 64}, {2, 2, 1}}, {{16, 4, 1}, {1, 1, 3}}};
  for (const auto& c : cases) {
    uint32_t total = 1;
    for (int a = 0; a < 3; ++a) total *= c.size[a] * c.groups[a];
    std::vector<uint8_t> input(4, 0);
    KernelRequest request;
    const std::string source = index_kernel(c.size[0], c.size[1], c.size[2]);
    request.source = source;
    request.input = input;
    request.output_size = (total + 5) * 4;  // a few words more than invocations: must stay 0
    request.workgroups = c.groups;
    auto out = shared_executor().run(request);
    KEM_ASSERT_OK(out);
    std::vector<uint32_t> expected(total + 5, 0);
    for (uint32_t i = 0; i < total; ++i) expected[i] = i + 1;
    EXPECT_EQ(*out, to_bytes(expected, expected.size() * 4)) << total;
  }
}

TEST(DispatchShapes, ParamsGiveATwoDimensionalGridOverWidthAndHeight) {
  const std::string source =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@group(0) @binding(2) var<uniform> size: vec2<u32>;\n"
      "@compute @workgroup_size(5, 3)\n"
      "fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < size.x && id.y < size.y) {\n"
      "    let i = id.y * size.x + id.x;\n"
      "    output[i] = input[i] + id.x * 1000u + id.y;\n"
      "  }\n"
      "}\n";
  const uint32_t width = 23, height = 17;
  auto input = random_bytes(width * height * 4, 3);
  auto words = to_words(input);
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x) words[y * width + x] += x * 1000 + y;
  auto params = u32_bytes({width, height});
  KernelRequest request;
  request.source = source;
  request.input = input;
  request.params = params;
  auto out = shared_executor().run(request);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, to_bytes(words, input.size()));
}

TEST(DispatchShapes, ReadWriteInputBindingAndOtherEntryPoints) {
  const std::string source =
      "@group(0) @binding(0) var<storage, read_write> data: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(16) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < arrayLength(&data)) { data[id.x] = data[id.x] + 1u; output[id.x] = data[id.x]; }\n"
      "}\n"
      "@compute @workgroup_size(16) fn triple(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < arrayLength(&data)) { output[id.x] = data[id.x] * 3u; }\n"
      "}\n";
  auto input = u32_bytes({1, 2, 3, 40});
  auto out = run(source, input);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, u32_bytes({2, 3, 4, 41}));
  KernelRequest request;
  request.source = source;
  request.input = input;
  request.entry = "triple";
  auto tripled = shared_executor().run(request);
  KEM_ASSERT_OK(tripled);
  EXPECT_EQ(*tripled, u32_bytes({3, 6, 9, 120}));
}

}  // namespace
}  // namespace kem::test
