// workgroup_storage_bytes against sizes worked out by hand from WGSL's memory layout rules.
#include <gtest/gtest.h>

#include "const_eval.h"
#include "parser.h"
#include "workgroup_usage.h"

namespace kem::wgsl {
namespace {

std::optional<uint64_t> usage(const std::string& src) {
  Result<Module> m = parse_wgsl(src);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  if (!m) return std::nullopt;
  ConstEvaluator constants(*m);
  return workgroup_storage_bytes(*m, constants);
}

TEST(WorkgroupUsage, SizesByTheLayoutRules) {
  EXPECT_EQ(usage("var<workgroup> a: u32;"), 16u);  // every variable rounds up to 16
  EXPECT_EQ(usage("var<workgroup> a: array<f32, 4096>;"), 16384u);
  EXPECT_EQ(usage("const N = 64u; var<workgroup> a: array<array<f32, N>, 64>; var<workgroup> b: array<array<f32, 64>, 64>;"),
            32768u);
  // vec3<f32> is 12 bytes aligned to 16: an array of 3 has a 16-byte stride.
  EXPECT_EQ(usage("var<workgroup> a: array<vec3<f32>, 3>;"), 48u);
  // struct { vec3f (offset 0, 12), f32 (offset 12), vec2u (offset 16, 8) }: 24, aligned to 16: 32.
  EXPECT_EQ(usage("struct S { a: vec3f, b: f32, c: vec2u }\nvar<workgroup> s: array<S, 2>;"), 64u);
  // mat3x3f: 3 columns of vec3f at a 16-byte stride = 48; atomic<u32> 4 -> 16.
  EXPECT_EQ(usage("alias M = mat3x3f;\nvar<workgroup> m: M;\nvar<workgroup> n: atomic<u32>;"), 64u);
  EXPECT_EQ(usage("var<private> p: array<f32, 100>; @group(0) @binding(0) var<storage> s: array<u32>;"), 0u);
  // What is not sized here is unknown, never guessed low.
  EXPECT_EQ(usage("struct S { @size(64) a: f32 }\nvar<workgroup> s: S;"), std::nullopt);
  EXPECT_EQ(usage("var<workgroup> t: Unknown;"), std::nullopt);
}

}  // namespace
}  // namespace kem::wgsl
