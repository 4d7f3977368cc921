// Every limit and every malformed request is a clear error value, never a partial output.
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace kem::test {
namespace {

const char* kWithParams =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@group(0) @binding(2) var<uniform> p: vec4<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  if (id.x < arrayLength(&output)) { output[id.x] = input[0] + p.x; }\n"
    "}\n";

const char* kSizeOne =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  if (id.x < arrayLength(&output)) { output[id.x] = input[0]; }\n"
    "}\n";

void expect_error(const Result<std::vector<uint8_t>>& r, ErrorCode code, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected " << to_string(code);
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

TEST(Errors, EmptyInput) { expect_error(run(read_kernel("double-integer.wgsl"), {}), ErrorCode::invalid_argument, "empty"); }

TEST(Errors, HintBelowOne) {
  expect_error(run(read_kernel("double-integer.wgsl"), {1, 2, 3, 4}, 0), ErrorCode::invalid_argument, "output_size_hint");
}

TEST(Errors, HugeHintDoesNotWrapAround) {
  expect_error(run(read_kernel("double-integer.wgsl"), {1, 2, 3, 4}, UINT64_MAX), ErrorCode::limit_exceeded, "maximum");
}

TEST(Errors, ParamsNotAMultipleOfFourBytes) {
  std::vector<uint8_t> input{1, 0, 0, 0}, params{1, 2, 3, 4, 5, 6};
  KernelRequest r;
  r.source = kWithParams;
  r.input = input;
  r.params = params;
  expect_error(shared_executor().run(r), ErrorCode::invalid_argument, "4-byte words");
}

TEST(Errors, ParamsForAKernelWithoutAParamsBinding) {
  std::vector<uint8_t> input{1, 0, 0, 0}, params{1, 0, 0, 0};
  const std::string source = read_kernel("double-integer.wgsl");
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.params = params;
  expect_error(shared_executor().run(r), ErrorCode::invalid_argument, "binding(2)");
}

TEST(Errors, ParamsAreOptionalForAKernelThatDeclaresThem) {
  auto out = run(kWithParams, u32_bytes({5, 0}));
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, u32_bytes({5, 5}));  // params bound as zeros
}

TEST(Errors, OutputOverTheConfiguredMaximum) {
  ExecutorOptions options;
  options.max_output_bytes = 1024;
  auto executor = Executor::create(options);
  KEM_ASSERT_OK(executor);
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input(512, 1);
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.output_size_hint = 2;
  KEM_ASSERT_OK((*executor)->run(r));  // exactly the maximum is fine
  r.output_size_hint = 3;
  expect_error((*executor)->run(r), ErrorCode::limit_exceeded, "maximum of 1024");
  r.output_size = 1025;
  expect_error((*executor)->run(r), ErrorCode::limit_exceeded, "maximum of 1024");
}

TEST(Errors, OutputOverTheAdaptersStorageBindingLimit) {
  ExecutorOptions options;
  options.max_output_bytes = uint64_t(1) << 40;
  auto executor = Executor::create(options);
  KEM_ASSERT_OK(executor);
  auto info = nlohmann::json::parse((*executor)->adapter_info_json());
  uint64_t limit = info["limits"]["max_storage_buffer_binding_size"];
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input(4, 1);
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.output_size = limit + 4;
  expect_error((*executor)->run(r), ErrorCode::limit_exceeded, "storage binding limit");
}

TEST(Errors, DispatchPastMaxWorkgroupsPerDimension) {
  auto info = nlohmann::json::parse(shared_executor().adapter_info_json());
  uint32_t max = info["limits"]["max_compute_workgroups_per_dimension"];
  // A workgroup of 1 over max + 1 output words would need max + 1 workgroups.
  std::vector<uint8_t> input(4, 1);
  KernelRequest r;
  r.source = kSizeOne;
  r.input = input;
  r.output_size = (uint64_t(max) + 1) * 4;
  expect_error(shared_executor().run(r), ErrorCode::limit_exceeded, "maxComputeWorkgroupsPerDimension");
  r.output_size.reset();
  r.workgroups = std::array<uint32_t, 3>{1, max + 1, 1};
  expect_error(shared_executor().run(r), ErrorCode::limit_exceeded, "maxComputeWorkgroupsPerDimension");
  r.workgroups = std::array<uint32_t, 3>{0, 1, 1};
  expect_error(shared_executor().run(r), ErrorCode::invalid_argument, "at least 1");
}

// Every dimension within the limit, 2^32 workgroups in all: refused, never run in part (lavapipe
// wrapped the count and answered with a partial output).
TEST(Errors, DispatchOfTwoToTheThirtyTwoWorkgroupsInAll) {
  auto info = nlohmann::json::parse(shared_executor().adapter_info_json());
  uint32_t max = info["limits"]["max_compute_workgroups_per_dimension"];
  ASSERT_GE(max, 2048u);
  std::vector<uint8_t> input(4, 1);
  KernelRequest r;
  r.source = kSizeOne;
  r.input = input;
  r.workgroups = std::array<uint32_t, 3>{2048, 2048, 1024};
  expect_error(shared_executor().run(r), ErrorCode::limit_exceeded,
               "dispatch of 2048 x 2048 x 1024 = 4294967296 workgroups is over 4294967295 in all");
  r.workgroups = std::array<uint32_t, 3>{max, max, max};
  expect_error(shared_executor().run(r), ErrorCode::limit_exceeded, "in all");
}

TEST(Errors, CompileErrorCarriesLineAndColumn) {
  const std::string source =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  output[id.x] = input[id.x] * undefined_name;\n"
      "}\n";
  auto r = run(source, {1, 2, 3, 4});
  expect_error(r, ErrorCode::compile_error, "undefined_name");
  EXPECT_EQ(r.error().message.rfind("4:32:", 0), 0u) << r.error().message;
  auto checked = shared_executor().check(source);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message.rfind("4:32:", 0), 0u) << checked.error().message;
}

TEST(Errors, MissingEntryPoint) {
  KernelRequest r;
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input{1, 2, 3, 4};
  r.source = source;
  r.input = input;
  r.entry = "nope";
  expect_error(shared_executor().run(r), ErrorCode::compile_error, "no @compute entry point named 'nope'");
}

TEST(Errors, BindingsOutsideTheContract) {
  const std::string extra_binding =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(5) var<storage, read_write> other: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() { other[0] = input[0]; }\n";
  expect_error(run(extra_binding, {1, 2, 3, 4}), ErrorCode::compile_error, "2:");
  const std::string other_group =
      "@group(1) @binding(0) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() { output[0] = 1u; }\n";
  expect_error(run(other_group, {1, 2, 3, 4}), ErrorCode::compile_error, "group 0");
}

TEST(Errors, NonPositiveTimeout) {
  KernelRequest r;
  const std::string source = read_kernel("double-integer.wgsl");
  std::vector<uint8_t> input{1, 2, 3, 4};
  r.source = source;
  r.input = input;
  r.timeout = std::chrono::milliseconds(0);
  expect_error(shared_executor().run(r), ErrorCode::invalid_argument, "timeout");
}

}  // namespace
}  // namespace kem::test
