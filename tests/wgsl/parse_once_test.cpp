// Issue 13: reflection and loop metering read one parse of the user's source. The counters of
// front_end_runs.h fail these tests if any pass tokenizes or parses the text again.
#include <gtest/gtest.h>

#include "front_end_runs.h"
#include "kem/reflection.h"
#include "metering.h"
#include "parsed_module.h"
#include "reflect.h"

namespace kem {
namespace {

// Every kind of loop metering handles: ticked (with and without a barrier), charged before it
// starts, charged as it starts; one of them in a called function.
constexpr std::string_view kKernel = R"(@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
var<workgroup> shared_word: u32;
fn step(x: u32) -> u32 {
  var y = x;
  while y > 10u { y = y / 2u; }
  return y;
}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) l: u32) {
  var total = 0u;
  for (var i = 0u; i < 8u; i++) { total += i; }
  for (var i = 0u; i < src[0]; i++) { total ^= i; }
  total = step(total);
  loop {
    workgroupBarrier();
    if (l == 0u) { shared_word += 1u; }
    if (src[1] == 0u) { break; }
  }
  dst[l] = total;
})";

struct Delta {
  uint64_t tokenizations, parses;
};

Delta since(const wgsl::FrontEndRuns& before) {
  const wgsl::FrontEndRuns now = wgsl::front_end_runs();
  return {now.tokenizations - before.tokenizations, now.parses - before.parses};
}

TEST(ParseOnce, ReflectAndMeterShareOneParse) {
  const wgsl::FrontEndRuns before = wgsl::front_end_runs();
  Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(kKernel);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  Result<Reflection> reflection = reflect(*parsed);
  ASSERT_TRUE(reflection.ok()) << reflection.error().message;
  Result<MeteredKernel> metered = meter(*parsed, *reflection);
  ASSERT_TRUE(metered.ok()) << metered.error().message;
  const Delta d = since(before);
  EXPECT_EQ(d.tokenizations, 1u);
  EXPECT_EQ(d.parses, 1u);
  // The kernel really has every kind of loop, so every path of metering ran.
  EXPECT_EQ(metered->charged_loops, 1u);
  EXPECT_EQ(metered->range_loops, 1u);
  EXPECT_EQ(metered->metered_loops, 2u);
  EXPECT_EQ(metered->uniform_loops, 1u);
}

TEST(ParseOnce, TheTextWrappersParseOnceEach) {
  wgsl::FrontEndRuns before = wgsl::front_end_runs();
  Result<MeteredKernel> metered = meter_wgsl(kKernel);
  ASSERT_TRUE(metered.ok()) << metered.error().message;
  Delta d = since(before);
  EXPECT_EQ(d.tokenizations, 1u);
  EXPECT_EQ(d.parses, 1u);

  before = wgsl::front_end_runs();
  ASSERT_TRUE(reflect_wgsl(kKernel).ok());
  d = since(before);
  EXPECT_EQ(d.tokenizations, 1u);
  EXPECT_EQ(d.parses, 1u);
}

TEST(ParseOnce, TheWrappersGiveWhatTheSharedParseGives) {
  Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(kKernel);
  ASSERT_TRUE(parsed.ok());
  Result<Reflection> reflection = reflect(*parsed);
  ASSERT_TRUE(reflection.ok());
  Result<MeteredKernel> shared = meter(*parsed, *reflection);
  Result<MeteredKernel> wrapped = meter_wgsl(kKernel);
  ASSERT_TRUE(shared.ok() && wrapped.ok());
  EXPECT_EQ(shared->source, wrapped->source);
  ASSERT_EQ(shared->insertions.size(), wrapped->insertions.size());
  for (size_t i = 0; i < shared->insertions.size(); ++i) {
    EXPECT_EQ(shared->insertions[i].offset, wrapped->insertions[i].offset);
    EXPECT_EQ(shared->insertions[i].length, wrapped->insertions[i].length);
  }
  Result<Reflection> by_text = reflect_wgsl(kKernel);
  ASSERT_TRUE(by_text.ok());
  ASSERT_EQ(by_text->bindings.size(), reflection->bindings.size());
  ASSERT_EQ(by_text->entry_points.size(), reflection->entry_points.size());
  EXPECT_EQ(by_text->entry_points[0].workgroup_size, reflection->entry_points[0].workgroup_size);
}

TEST(ParseOnce, ErrorsAreTheTextWrappersErrors) {
  // A syntax error stops at the parse; a reflection error and the reserved binding at their pass.
  for (std::string_view bad : {std::string_view("fn main() {\n  loop {\n}"),
                               std::string_view("@compute fn main() {}"),
                               std::string_view("@group(0) @binding(15) var<storage, read_write> x: array<u32>;\n"
                                                "@compute @workgroup_size(1) fn main() { x[0] = 1u; }")}) {
    Result<MeteredKernel> wrapped = meter_wgsl(bad);
    ASSERT_FALSE(wrapped.ok()) << bad;
    Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(bad);
    std::string message;
    if (!parsed) {
      message = parsed.error().message;
    } else if (Result<Reflection> r = reflect(*parsed); !r) {
      message = r.error().message;
    } else {
      Result<MeteredKernel> m = meter(*parsed, *r);
      ASSERT_FALSE(m.ok()) << bad;
      message = m.error().message;
    }
    EXPECT_EQ(message, wrapped.error().message) << bad;
    EXPECT_EQ(wrapped.error().code, ErrorCode::compile_error) << bad;
  }
}

}  // namespace
}  // namespace kem
