// Override constants set by the request (issue 19 part 5), against CPU references: an override
// without default, defaults replaced (also one keyed by its @id, one sizing the workgroup, one
// bounding a metered loop), and every validation error.
#include "test_support.h"

namespace kem::test {
namespace {

// Modeled on Tint's override tests (an override without default whose value the test passes
// with --overrides): without a value the pipeline cannot exist at all.
const char* const kScaleKernel =
    "override scale: u32;\n"
    "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> dst: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  if (id.x < arrayLength(&dst)) { dst[id.x] = src[id.x] * scale; }\n"
    "}\n";

// Every override has a default. `block` sizes the workgroup, so the dispatch KEM derives must
// follow the request's value: with the default 16 and a request of 4, a dispatch computed from 16
// would cover a quarter of the words. `rounds` bounds a loop, which metering counts.
const char* const kDefaultsKernel =
    "@id(7) override block: u32 = 16u;\n"
    "override rounds = 1;\n"
    "override gain = 1.0;\n"
    "override flip: bool = false;\n"
    "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> dst: array<u32>;\n"
    "@compute @workgroup_size(block) fn main(@builtin(workgroup_id) g: vec3<u32>,\n"
    "                                        @builtin(local_invocation_id) l: vec3<u32>) {\n"
    "  let i = g.x * block + l.x;\n"
    "  if (i >= arrayLength(&dst)) { return; }\n"
    "  var acc = 0u;\n"
    "  for (var r = 0; r < rounds; r++) { acc += src[i]; }\n"
    "  let v = u32(f32(acc) * gain);\n"
    "  dst[i] = select(v, ~v, flip);\n"
    "}\n";

using Overrides = std::vector<std::pair<std::string, double>>;

Result<std::vector<uint8_t>> run_with(const std::string& source, const std::vector<uint8_t>& input,
                                      Overrides overrides) {
  KernelRequest request;
  request.source = source;
  request.input = input;
  request.overrides = std::move(overrides);
  return shared_executor().run(request);
}

std::vector<uint8_t> words_input(size_t n) {
  std::vector<uint32_t> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = static_cast<uint32_t>(i * 7 + 1);
  return to_bytes(w, n * 4);
}

TEST(Overrides, AnOverrideWithoutDefaultRunsWithTheRequestsValue) {
  auto input = random_bytes(4 * 1000, 19);
  for (double scale : {0.0, 3.0, 4294967295.0}) {
    auto out = run_with(kScaleKernel, input, {{"scale", scale}});
    KEM_ASSERT_OK(out);
    std::vector<uint32_t> expected = to_words(input);
    for (uint32_t& w : expected) w *= static_cast<uint32_t>(scale);  // wraps as u32 does
    EXPECT_EQ(*out, to_bytes(expected, input.size())) << "scale " << scale;
  }
}

TEST(Overrides, DefaultsApplyWhenTheRequestSetsNone) {
  auto input = words_input(100);
  auto out = run_with(kDefaultsKernel, input, {});
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, input);  // one round, gain 1, no flip
}

TEST(Overrides, RequestValuesReplaceDefaultsIncludingTheWorkgroupSize) {
  auto input = words_input(100);
  // `block` by its @id, the rest by name.
  auto out = run_with(kDefaultsKernel, input, {{"7", 4}, {"rounds", 3}, {"gain", 2.0}, {"flip", 1}});
  KEM_ASSERT_OK(out);
  std::vector<uint32_t> expected = to_words(input);
  for (uint32_t& w : expected) w = ~(w * 3 * 2);
  EXPECT_EQ(*out, to_bytes(expected, input.size()));

  // `block` by name (WebGPU itself wants "7": KEM translates), another value: another pipeline.
  auto by_name = run_with(kDefaultsKernel, input, {{"block", 32}, {"rounds", 2}});
  KEM_ASSERT_OK(by_name);
  expected = to_words(input);
  for (uint32_t& w : expected) w *= 2;
  EXPECT_EQ(*by_name, to_bytes(expected, input.size()));
}

TEST(Overrides, MeteredAndUnmeteredGiveTheSameOutput) {
  auto input = words_input(100);
  std::vector<uint32_t> expected = to_words(input);
  for (uint32_t& w : expected) w *= 5;
  for (bool unmetered : {false, true}) {
    KernelRequest request;
    request.source = kDefaultsKernel;
    request.input = input;
    request.unmetered = unmetered;
    request.overrides = {{"rounds", 5}, {"block", 8}};
    auto out = shared_executor().run(request);
    KEM_ASSERT_OK(out);
    EXPECT_EQ(*out, to_bytes(expected, input.size())) << (unmetered ? "unmetered" : "metered");
  }
}

// Metering counts the loop with the request's bound, not the default's (1 round).
TEST(Overrides, MeteringCountsALoopBoundedByAnOverride) {
  auto input = words_input(16);
  KernelRequest request;
  request.source = kDefaultsKernel;
  request.input = input;
  request.loop_budget = 4;
  request.overrides = {{"rounds", 4}};
  KEM_ASSERT_OK(shared_executor().run(request));
  request.overrides = {{"rounds", 50}};
  auto over = shared_executor().run(request);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded) << over.error().message;
}

TEST(Overrides, TheSameSourceWithOtherValuesIsNotServedFromTheCache) {
  auto input = words_input(64);
  for (int round = 0; round < 2; ++round)
    for (double scale : {2.0, 5.0}) {
      auto out = run_with(kScaleKernel, input, {{"scale", scale}});
      KEM_ASSERT_OK(out);
      std::vector<uint32_t> expected = to_words(input);
      for (uint32_t& w : expected) w *= static_cast<uint32_t>(scale);
      EXPECT_EQ(*out, to_bytes(expected, input.size())) << "scale " << scale << " round " << round;
    }
}

void expect_invalid(const std::string& source, Overrides overrides, const std::string& names) {
  auto out = run_with(source, words_input(16), overrides);
  ASSERT_FALSE(out.ok()) << "expected an error naming " << names;
  EXPECT_EQ(out.error().code, ErrorCode::invalid_argument) << out.error().message;
  EXPECT_NE(out.error().message.find(names), std::string::npos) << out.error().message;
}

TEST(Overrides, EveryValidationErrorIsInvalidArgumentNamingTheOverride) {
  expect_invalid(kScaleKernel, {}, "'scale' has no default");
  expect_invalid(kScaleKernel, {{"scale", 1}, {"nope", 1}}, "'nope' is not declared");
  expect_invalid(kScaleKernel, {{"7", 1}}, "'7' is not declared");  // scale has no @id
  expect_invalid(kScaleKernel, {{"scale", -1}}, "'scale': the value -1 is outside the range of u32");
  expect_invalid(kScaleKernel, {{"scale", 4294967296.0}}, "outside the range of u32");
  expect_invalid(kScaleKernel, {{"scale", 1.5}}, "'scale': the value 1.5 is not an integer");
  expect_invalid(kScaleKernel, {{"scale", std::nan("")}}, "is not a finite number");
  expect_invalid(kDefaultsKernel, {{"rounds", 2147483648.0}}, "'rounds': the value 2147483648 is outside the range of i32");
  expect_invalid(kDefaultsKernel, {{"rounds", -2147483649.0}}, "outside the range of i32");
  expect_invalid(kDefaultsKernel, {{"gain", 1e39}}, "is outside the range of f32");
  expect_invalid(kDefaultsKernel, {{"gain", 1e39}}, "'gain'");
  expect_invalid(kDefaultsKernel, {{"block", 8}, {"7", 8}}, "'block' is given twice");
  // Within range for u32 but not a workgroup size: reflection's own message, as for a literal 0.
  auto zero = run_with(kDefaultsKernel, words_input(16), {{"block", 0}});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("workgroup size x must be a positive integer, found 0"), std::string::npos)
      << zero.error().message;
}

TEST(Overrides, ExtremesOfEachTypeAreAccepted) {
  auto input = words_input(16);
  const std::vector<uint8_t> zeros(input.size(), 0);
  auto no_rounds = run_with(kDefaultsKernel, input, {{"rounds", -2147483648.0}});
  KEM_ASSERT_OK(no_rounds);
  EXPECT_EQ(*no_rounds, zeros);
  auto no_gain = run_with(kDefaultsKernel, input, {{"gain", 0.0}, {"flip", 0}});
  KEM_ASSERT_OK(no_gain);
  EXPECT_EQ(*no_gain, zeros);
  auto widest = run_with(kDefaultsKernel, input, {{"block", 256}});  // the device's usual maximum
  KEM_ASSERT_OK(widest);
  EXPECT_EQ(*widest, input);
}

}  // namespace
}  // namespace kem::test
