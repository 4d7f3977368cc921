// Never a partial result: every dispatch path (explicit workgroups, the 2-D image grid, the
// default 1-D rows) is refused when its grid would pass 2^32 workgroups in all, 2^32
// invocations along an axis, or 2^32 invocations in all; and a full 3-D grid under the bounds
// runs every invocation exactly once. Refusals through the real executor where the adapter's
// limits allow the case, and through shape_call with a larger (hypothetical) adapter's limits
// where they do not.
#include "test_support.h"

#include <nlohmann/json.hpp>

#include "executor/call_shape.h"

namespace kem::test {
namespace {

using executor::DeviceLimits;
using executor::KernelShape;
using executor::shape_call;

void expect_limit(const Result<std::vector<uint8_t>>& out, const std::string& message) {
  ASSERT_FALSE(out.ok()) << "expected a refusal: " << message;
  EXPECT_EQ(out.error().code, ErrorCode::limit_exceeded) << out.error().message;
  EXPECT_EQ(out.error().message, message);
}

std::string sized_kernel(const char* size) {
  return std::string(
             "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
             "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
             "@compute @workgroup_size(") +
         size +
         ") fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
         "  if (id.x < arrayLength(&output)) { output[id.x] = input[0]; }\n"
         "}\n";
}

uint32_t max_per_dimension() {
  auto info = nlohmann::json::parse(shared_executor().adapter_info_json());
  return info["limits"]["max_compute_workgroups_per_dimension"];
}

TEST(DispatchTotals, ExplicitGridsPastTwoToTheThirtyTwoWorkgroupsAreRefused) {
  ASSERT_GE(max_per_dimension(), 4097u);
  const std::string source = sized_kernel("1");
  std::vector<uint8_t> input(4, 1);
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.workgroups = std::array<uint32_t, 3>{2048, 2048, 1024};  // 2^32 exactly
  expect_limit(shared_executor().run(r),
               "dispatch of 2048 x 2048 x 1024 = 4294967296 workgroups is over 4294967295 in all (drivers count "
               "workgroups in 32 bits)");
  r.workgroups = std::array<uint32_t, 3>{4097, 1024, 1024};  // just over 2^32
  expect_limit(shared_executor().run(r),
               "dispatch of 4097 x 1024 x 1024 = 4296015872 workgroups is over 4294967295 in all (drivers count "
               "workgroups in 32 bits)");
}

TEST(DispatchTotals, ExplicitGridsPastTwoToTheThirtyTwoInvocationsAreRefused) {
  ASSERT_GE(max_per_dimension(), 65535u);
  const std::string source = sized_kernel("64");
  std::vector<uint8_t> input(4, 1);
  KernelRequest r;
  r.source = source;
  r.input = input;
  // 67,173,375 workgroups (well under 2^32) of 64: 4,299,096,000 invocations.
  r.workgroups = std::array<uint32_t, 3>{65535, 1025, 1};
  expect_limit(shared_executor().run(r),
               "dispatch of 65535 x 1025 x 1 workgroups of 64 x 1 x 1 = 4299096000 invocations is over 4294967295 "
               "in all (a kernel's linear invocation index is a u32)");
}

TEST(DispatchTotals, TheImageGridIsCheckedToo) {
  ASSERT_GE(max_per_dimension(), 65535u);
  const std::string source =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@group(0) @binding(2) var<uniform> size: vec2<u32>;\n"
      "@compute @workgroup_size(16, 16)\n"
      "fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  if (id.x < size.x && id.y < size.y) { output[0] = input[0]; }\n"
      "}\n";
  std::vector<uint8_t> input(4, 1);
  // 65,535 x 65,535 workgroups (each axis at the limit) of 16 x 16: about 1.1e12 invocations.
  const auto params = u32_bytes({65535u * 16, 65535u * 16});
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.params = params;
  r.output_size = 4;
  expect_limit(shared_executor().run(r),
               "dispatch of 65535 x 65535 x 1 workgroups of 16 x 16 x 1 = 1099478073600 invocations is over "
               "4294967295 in all (a kernel's linear invocation index is a u32)");
}

// A whole 3-D grid of 3-D workgroups: every invocation writes its own linear index once, and the
// CPU checks every word (a driver that dropped or repeated workgroups would show here).
TEST(DispatchTotals, AFullThreeDimensionalGridRunsEveryInvocationOnce) {
  const std::string source =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(4, 2, 2)\n"
      "fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {\n"
      "  let w = n.x * 4u;\n"
      "  let h = n.y * 2u;\n"
      "  let i = id.x + w * (id.y + h * id.z);\n"
      "  output[i] = output[i] + i + input[0];\n"
      "}\n";
  const std::array<uint32_t, 3> groups{64, 32, 16};
  const uint64_t invocations = uint64_t{groups[0]} * 4 * groups[1] * 2 * groups[2] * 2;
  std::vector<uint8_t> input = u32_bytes({7});
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.workgroups = groups;
  r.output_size = invocations * 4;
  auto out = shared_executor().run(r);
  KEM_ASSERT_OK(out);
  const auto words = to_words(*out);
  ASSERT_EQ(words.size(), invocations);
  for (uint64_t i = 0; i < invocations; ++i) ASSERT_EQ(words[i], static_cast<uint32_t>(i + 7)) << "word " << i;
}

// Adapters with more than 65,535 workgroups per dimension: the image and rows paths could then
// build grids past the totals, which shape_call refuses whatever path chose the grid.
TEST(DispatchTotals, LargerAdaptersLimitsStillCannotWrap) {
  DeviceLimits limits;
  limits.max_storage_binding = limits.max_buffer = uint64_t{1} << 40;
  limits.max_uniform_binding = 65536;
  limits.max_workgroups_per_dimension = 1u << 20;
  ExecutorOptions options;
  options.max_output_bytes = uint64_t{1} << 40;
  const std::vector<uint8_t> input(4, 1);

  // The image grid: 65,537 x 65,537 workgroups of 1.
  const auto params = u32_bytes({65537, 65537});
  KernelRequest image;
  image.input = input;
  image.params = params;
  image.output_size = 4;
  KernelShape with_params;
  with_params.declares_params = true;
  auto refused = shape_call(image, options, limits, with_params);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "dispatch of 65537 x 65537 x 1 = 4295098369 workgroups is over 4294967295 in all (drivers count "
            "workgroups in 32 bits)");

  // The rows path: 2^32 + 2^20 output words, one per workgroup of 1.
  KernelRequest rows;
  rows.input = input;
  rows.output_size = ((uint64_t{1} << 32) + (1u << 20)) * 4;
  KernelShape reads_count;
  reads_count.reads_num_workgroups = true;
  refused = shape_call(rows, options, limits, reads_count);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "dispatch of 1048576 x 4097 x 1 = 4296015872 workgroups is over 4294967295 in all (drivers count "
            "workgroups in 32 bits)");

  // Along one axis: 2^20 workgroups of 8,192 would wrap global_invocation_id.x.
  KernelRequest wide;
  wide.input = input;
  wide.workgroups = std::array<uint32_t, 3>{1u << 20, 1, 1};
  KernelShape big_groups;
  big_groups.workgroup_size = {8192, 1, 1};
  refused = shape_call(wide, options, limits, big_groups);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "dispatch of 1048576 x 1 x 1 workgroups of 8192 along x is over 2^32 invocations along it "
            "(global_invocation_id is a u32)");

  // Just under every bound: accepted as shaped.
  KernelRequest under;
  under.input = input;
  under.workgroups = std::array<uint32_t, 3>{65535, 65535, 1};  // 4,294,836,225 workgroups of 1
  auto accepted = shape_call(under, options, limits, KernelShape{});
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->workgroups, (std::array<uint32_t, 3>{65535, 65535, 1}));
}

}  // namespace
}  // namespace kem::test
