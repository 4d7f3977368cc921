// Loop metering as a source transformation: the exact text it produces, that the result is
// still WGSL (re-parsed and re-reflected with our own front end), the choice between per-
// invocation and workgroup-uniform exits, and the map from transformed positions back to the
// user's source. Running metered kernels on a GPU is the executor's suite.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "corpus.h"
#include "metering.h"
#include "kem/reflection.h"
#include "lexer.h"
#include "parser.h"

namespace kem {
namespace {

MeteredKernel meter_ok(std::string_view src, const MeteringOptions& options = {}) {
  Result<MeteredKernel> m = meter_wgsl(src, options);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? std::move(m).value() : MeteredKernel{};
}

// Line `n` (1-based) of `text`.
std::string line_of(const std::string& text, size_t n) {
  size_t start = 0;
  for (size_t i = 1; i < n; ++i) start = text.find('\n', start) + 1;
  return text.substr(start, text.find('\n', start) - start);
}

constexpr std::string_view kLoops = R"(@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(1)
fn main() {
  var i = 0u;
  while i < 10u { i++; }
  for (var j = 0u; j < 3u; j++) { loop { break; } }
  data[0] = i;
})";

constexpr std::string_view kDeclarations = R"(
// Loop metering added by KEM (issue 7). The lines above are the kernel as written.
struct kem_meter_State { budget: u32, exceeded: atomic<u32> }
@group(0) @binding(15) var<storage, read_write> kem_meter: kem_meter_State;
// Loop iterations this invocation may still start; every entry point sets it to the budget.
var<private> kem_meter_left: u32;
// Counts one loop iteration of this invocation; true once the budget is used up.
fn kem_meter_tick() -> bool {
  if kem_meter_left == 0u {
    atomicStore(&kem_meter.exceeded, 1u);
    return true;
  }
  kem_meter_left -= 1u;
  return false;
}
)";

TEST(Metering, ExactTransformation) {
  MeteredKernel m = meter_ok(kLoops);
  const std::string expected =
      R"(@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(1)
fn main() { kem_meter_left = kem_meter.budget;
  var i = 0u;
  while i < 10u { if kem_meter_tick() { break; } i++; }
  for (var j = 0u; j < 3u; j++) { if kem_meter_tick() { break; } loop { if kem_meter_tick() { break; } break; } }
  data[0] = i;
})" + std::string(kDeclarations);
  EXPECT_EQ(m.source, expected);
  EXPECT_EQ(m.metered_loops, 3u);
  EXPECT_EQ(m.uniform_loops, 0u);
  EXPECT_EQ(m.charged_loops, 0u);  // the `for` contains a loop, so it is metered per iteration
  EXPECT_EQ(m.group, 0u);
  EXPECT_EQ(m.binding, 15u);
}

TEST(Metering, OutputParsesAndReflectsWithTheMeterBinding) {
  MeteredKernel m = meter_ok(kLoops);
  Result<Reflection> r = reflect_wgsl(m.source);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->bindings.size(), 2u);
  EXPECT_EQ(r->bindings[0].name, "data");
  EXPECT_EQ(r->bindings[1].name, "kem_meter");
  EXPECT_EQ(r->bindings[1].group, 0u);
  EXPECT_EQ(r->bindings[1].binding, 15u);
  EXPECT_EQ(r->bindings[1].address_space, AddressSpace::storage);
  EXPECT_EQ(r->bindings[1].access, AccessMode::read_write);
  EXPECT_EQ(r->bindings[1].type, "kem_meter_State");
  ASSERT_EQ(r->entry_points.size(), 1u);
  EXPECT_EQ(r->entry_points[0].workgroup_size, (std::array<uint32_t, 3>{1, 1, 1}));
}

TEST(Metering, LoopsWithBarriersLeaveTheWorkgroupTogether) {
  constexpr std::string_view src = R"(fn sync() { workgroupBarrier(); }
fn helper() { for (var k = 0; k < 2; k++) { sync(); } }
@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) i: u32) {
  for (var n = 0; n < 4; n++) { helper(); }
  while i > 100u { if i == 200u { continue; } }
  loop { for (var j = 0; j < 2; j++) { } workgroupBarrier(); break; }
  for (;;) { _ = subgroupAdd(1u); break; }
})";
  MeteredKernel m = meter_ok(src);
  EXPECT_EQ(m.metered_loops, 4u);
  EXPECT_EQ(m.uniform_loops, 3u);
  EXPECT_EQ(m.charged_loops, 2u);
  // A loop of fixed trip count is charged even with a barrier inside: the charge changes no
  // control flow, so the loop stays as uniform as it was written.
  EXPECT_EQ(line_of(m.source, 2),
            "fn helper() { kem_meter_charge(2u); for (var k = 0; k < 2; k++) { sync(); } }");
  EXPECT_EQ(line_of(m.source, 3),
            "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) i: u32) { "
            "kem_meter_left = kem_meter.budget;");
  // helper() contains a loop, so this loop is not a leaf and is metered per iteration.
  EXPECT_EQ(line_of(m.source, 4),
            "  for (var n = 0; n < 4; n++) { if kem_meter_tick_uniform() { break; } helper(); }");
  EXPECT_EQ(line_of(m.source, 5),
            "  while i > 100u { if kem_meter_tick() { break; } if i == 200u { continue; } }");
  EXPECT_EQ(line_of(m.source, 6),
            "  loop { if kem_meter_tick_uniform() { break; } kem_meter_charge(2u); for (var j = 0; j "
            "< 2; j++) { } workgroupBarrier(); break; }");
  EXPECT_EQ(line_of(m.source, 7),
            "  for (;;) { if kem_meter_tick_uniform() { break; } _ = subgroupAdd(1u); break; }");
  // The uniform exit and its workgroup flag are declared only when some loop needs them.
  EXPECT_NE(m.source.find("var<workgroup> kem_meter_halt: bool;\n"
                          "// For loops with barriers: the whole workgroup leaves once any "
                          "invocation is over budget.\n"
                          "fn kem_meter_tick_uniform() -> bool {\n"
                          "  if kem_meter_tick() { kem_meter_halt = true; }\n"
                          "  return workgroupUniformLoad(&kem_meter_halt);\n"
                          "}\n"),
            std::string::npos);
  EXPECT_EQ(meter_ok(kLoops).source.find("kem_meter_halt"), std::string::npos);
  EXPECT_TRUE(wgsl::parse_wgsl(m.source).ok());
}

// Which loops are charged once (fixed trip count) and which stay metered per iteration. Each
// line of the kernel is one case; the expected line after metering is next to it.
TEST(Metering, OnlyLoopsOfProvablyFixedTripCountAreCharged) {
  struct Case {
    std::string loop;      // one line of main's body
    std::string metered;   // that line after metering
  };
  const std::string tick = "if kem_meter_tick() { break; } ";
  const std::string range = "if kem_meter_range_u32(";
  const std::vector<Case> cases = {
      // Charged: constant bounds and steps, up and down, <, <=, >, >=, module consts, i32 and u32.
      {"for (var i = 0u; i < N * 2u; i++) { s += i; }",
       "kem_meter_charge(16u); for (var i = 0u; i < N * 2u; i++) { s += i; }"},
      {"for (var i = 10; i >= -10; i -= 5) { s += 1u; }",
       "kem_meter_charge(5u); for (var i = 10; i >= -10; i -= 5) { s += 1u; }"},
      {"for (var k: u32 = 1u; k <= 7u; k += 3u) { s += k; continue; }",
       "kem_meter_charge(3u); for (var k: u32 = 1u; k <= 7u; k += 3u) { s += k; continue; }"},
      {"for (var i = 9i; i > 0i; i--) { s += f(u32(i)); }",
       "kem_meter_charge(9u); for (var i = 9i; i > 0i; i--) { s += f(u32(i)); }"},
      {"@diagnostic(off, derivative_uniformity) for (var i = 0u; i < 65536u; i++) { a[i % 4u] = i; }",
       "kem_meter_charge(65536u); @diagnostic(off, derivative_uniformity) for (var i = 0u; i < 65536u; "
       "i++) { a[i % 4u] = i; }"},
      // Never entered: nothing to count, nothing inserted.
      {"for (var i = 5u; i < 5u; i++) { s += 1u; }", "for (var i = 5u; i < 5u; i++) { s += 1u; }"},
      // Metered per iteration.
      // Not constant, but fixed once the loop starts: charged then (RangeLoopsAreChargedAsTheyStart).
      {"for (var i = 0u; i < O; i++) { s += 1u; }",  // an override may be changed by the pipeline
       range + "0u, O, 1u, true, false) { for (var i = 0u; i < O; i++) { s += 1u; } }"},
      {"for (var i = 0u; i < L; i++) { s += 1u; }",  // L is a local: not a module-scope const
       range + "0u, L, 1u, true, false) { for (var i = 0u; i < L; i++) { s += 1u; } }"},
      {"for (var i = 0u; i < s; i++) { s -= 1u; }",  // a run-time bound
       "for (var i = 0u; i < s; i++) { " + tick + "s -= 1u; }"},
      // i wraps around and never ends: the guard refuses it when it starts.
      {"for (var i = 0u; i <= 0xFFFFFFFFu; i++) { s += 1u; }",
       range + "0u, 0xFFFFFFFFu, 1u, true, true) { for (var i = 0u; i <= 0xFFFFFFFFu; i++) { s += 1u; } }"},
      {"for (var i = 3u; i >= 0u; i--) { s += 1u; }",  // likewise
       range + "3u, 0u, 1u, false, true) { for (var i = 3u; i >= 0u; i--) { s += 1u; } }"},
      {"for (var i = 0u; i < 0xFFFFFFFFu; i += 2u) { s += 1u; }",  // steps over the bound, wraps
       "for (var i = 0u; i < 0xFFFFFFFFu; i += 2u) { " + tick + "s += 1u; }"},
      {"for (var i = 0u; i < 65537u; i++) { s += 1u; }",  // over kMaxChargedTrips: guarded
       range + "0u, 65537u, 1u, true, false) { for (var i = 0u; i < 65537u; i++) { s += 1u; } }"},
      {"for (var i = 0u; i < 10u; i++) { if s > 3u { break; } }",  // may leave early
       "for (var i = 0u; i < 10u; i++) { " + tick + "if s > 3u { break; } }"},
      {"for (var i = 0u; i < 10u; i++) { if s > 3u { return; } }",
       "for (var i = 0u; i < 10u; i++) { " + tick + "if s > 3u { return; } }"},
      {"for (var i = 0u; i < 10u; i++) { i += s; }",  // changes its variable
       "for (var i = 0u; i < 10u; i++) { " + tick + "i += s; }"},
      {"for (var i = 0u; i < 10u; i++) { bump(&i); }",  // through a pointer
       "for (var i = 0u; i < 10u; i++) { " + tick + "bump(&i); }"},
      {"for (var i = 0u; i < 10u; i++) { s += g(); }",  // calls a function with a loop
       "for (var i = 0u; i < 10u; i++) { " + tick + "s += g(); }"},
      {"for (var i = 0u; i < 10u; i += 0u) { s += 1u; }",  // a step of 0 never ends
       "for (var i = 0u; i < 10u; i += 0u) { " + tick + "s += 1u; }"},
      {"for (var i = 0u; i < 10u; i--) { s += 1u; }",  // a step away from the bound
       "for (var i = 0u; i < 10u; i--) { " + tick + "s += 1u; }"},
      {"for (var i = 0.0; i < 10.0; i += 1.0) { s += 1u; }",  // not an integer
       "for (var i = 0.0; i < 10.0; i += 1.0) { " + tick + "s += 1u; }"},
  };
  std::string src =
      "const N = 8u;\n"
      "override O = 4u;\n"
      "var<private> a: array<u32, 4>;\n"
      "fn f(x: u32) -> u32 { return x * 2u; }\n"
      "fn bump(p: ptr<function, u32>) { *p += 1u; }\n"
      "fn g() -> u32 { var n = 0u; while n < 3u { n++; } return n; }\n"
      "@compute @workgroup_size(1) fn main() {\n"
      "  var s = 0u; let L = 3u;\n";
  for (const Case& c : cases) src += "  " + c.loop + "\n";
  src += "}\n";
  MeteredKernel m = meter_ok(src);
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(line_of(m.source, 9 + i), "  " + cases[i].metered) << cases[i].loop;
  EXPECT_EQ(m.charged_loops, 5u);
  EXPECT_EQ(m.range_loops, 5u);
  EXPECT_EQ(m.metered_loops, cases.size() - 11 + 1);  // + the while loop of g()
  EXPECT_NE(m.source.find("fn kem_meter_charge(n: u32) {\n"
                          "  if n <= kem_meter_left {\n"
                          "    kem_meter_left -= n;\n"
                          "  } else {\n"
                          "    kem_meter_left = 0u;\n"
                          "    atomicStore(&kem_meter.exceeded, 1u);\n"
                          "  }\n"
                          "}\n"),
            std::string::npos);
}

// A name that a function declares hides the module-scope const of that name from the charge.
TEST(Metering, ALocalShadowingAModuleConstIsNotAConstantBound) {
  MeteredKernel m = meter_ok(
      "const N = 4u;\n"
      "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
      "fn helper() -> u32 { var t = 0u; for (var i = 0u; i < N; i++) { t += i; } return t; }\n"
      "@compute @workgroup_size(1) fn main() {\n"
      "  let N = src[0];\n"
      "  var t = helper();\n"
      "  for (var i = 0u; i < N; i++) { t += i; }\n"
      "}\n");
  EXPECT_EQ(line_of(m.source, 3),
            "fn helper() -> u32 { var t = 0u; kem_meter_charge(4u); for (var i = 0u; i < N; i++) { t += i; "
            "} return t; }");
  // There N is the local let, a run-time bound.
  EXPECT_EQ(line_of(m.source, 7),
            "  if kem_meter_range_u32(0u, N, 1u, true, false) { for (var i = 0u; i < N; i++) { t += i; } }");
}

// Loops whose trip count is fixed once they start, though not at compile time: wrapped in a
// guard that charges the count when the loop starts (or skips it), body left alone. One case per
// line of `main`, as above.
TEST(Metering, RangeLoopsAreChargedAsTheyStart) {
  struct Case {
    std::string loop;
    std::string metered;
  };
  const std::string tick = "if kem_meter_tick() { break; } ";
  const std::vector<Case> cases = {
      // Guarded: bounds read from read-only storage, uniforms, lets, parameters, overrides,
      // pure builtins, arrayLength (even of a writable buffer: its length never changes).
      {"for (var k = 0u; k < src[0]; k++) { s += k; }",
       "if kem_meter_range_u32(0u, src[0], 1u, true, false) { for (var k = 0u; k < src[0]; k++) { s += k; } }"},
      {"for (var k = u.lo; k <= u.hi; k += 1u) { s += k; continue; }",
       "if kem_meter_range_u32(u.lo, u.hi, 1u, true, true) { for (var k = u.lo; k <= u.hi; k += 1u) { s += k; "
       "continue; } }"},
      {"for (var k: u32 = n; k < min(src[n + 1u], (n + 4u) * 2u); k++) { s += k; }",
       "if kem_meter_range_u32(n, min(src[(n) + (1u)], ((n) + (4u)) * (2u)), 1u, true, false) { for (var k: u32 = "
       "n; k < min(src[n + 1u], (n + 4u) * 2u); k++) { s += k; } }"},
      {"for (var k = 0u; k < arrayLength(&dst); k++) { dst[k] = k; }",
       "if kem_meter_range_u32(0u, arrayLength(&dst), 1u, true, false) { for (var k = 0u; k < arrayLength(&dst); "
       "k++) { dst[k] = k; } }"},
      {"for (var k: i32 = -5; k < i32(src[1]) - O; k++) { s += 1u; }",  // i32, negative start
       "if kem_meter_range_i32(-5, (i32(src[1])) - (O), 1u, true, false) { for (var k: i32 = -5; k < i32(src[1]) "
       "- O; k++) { s += 1u; } }"},
      {"for (var k = i32(src[2]); k >= -3; k -= 2) { s += 1u; }",  // down, constant step, constant bound
       "if kem_meter_range_i32(i32(src[2]), -3, 2u, false, true) { for (var k = i32(src[2]); k >= -3; k -= 2) { "
       "s += 1u; } }"},
      {"for (var k = id; k < 4096u; k += 64u) { s += k; }",  // a grid stride to a constant end
       "if kem_meter_range_u32(id, 4096u, 64u, true, false) { for (var k = id; k < 4096u; k += 64u) { s += k; } "
       "}"},
      // Metered per iteration.
      {"for (var k = 0u; k < dst[0]; k++) { s += k; }",  // read_write storage: the body may write it
       "for (var k = 0u; k < dst[0]; k++) { " + tick + "s += k; }"},
      {"for (var k = 0u; k < a[0]; k++) { s += k; }",  // a private var
       "for (var k = 0u; k < a[0]; k++) { " + tick + "s += k; }"},
      {"for (var k = 0u; k < w; k++) { s += k; }",  // a workgroup var
       "for (var k = 0u; k < w; k++) { " + tick + "s += k; }"},
      {"for (var k = 0u; k < s; k++) { s -= 1u; }",  // a function var
       "for (var k = 0u; k < s; k++) { " + tick + "s -= 1u; }"},
      {"for (var k = 0u; k < *p; k++) { s += k; }",  // through a pointer
       "for (var k = 0u; k < *p; k++) { " + tick + "s += k; }"},
      {"for (var k = 0u; k < q[0]; k++) { s += k; }",  // a let that holds a pointer
       "for (var k = 0u; k < q[0]; k++) { " + tick + "s += k; }"},
      {"for (var k = 0u; k < f(n); k++) { s += k; }",  // a user function
       "for (var k = 0u; k < f(n); k++) { " + tick + "s += k; }"},
      {"for (var k = 0u; k < src[0]; k++) { if k == 7u { break; } }",  // may leave early
       "for (var k = 0u; k < src[0]; k++) { " + tick + "if k == 7u { break; } }"},
      {"for (var k = 0u; k < src[0]; k++) { k += 1u; }",  // writes its counter
       "for (var k = 0u; k < src[0]; k++) { " + tick + "k += 1u; }"},
      {"for (var k = 0u; k < src[0]; k++) { bump(&k); }",
       "for (var k = 0u; k < src[0]; k++) { " + tick + "bump(&k); }"},
      {"for (var k = 0u; k < src[0]; k += 2u) { s += k; }",  // might step past 0xFFFFFFFF
       "for (var k = 0u; k < src[0]; k += 2u) { " + tick + "s += k; }"},
      {"for (var k = 0u; k < src[0]; k++) { for (var j = 0u; j < 2u; j++) { s += j; } }",  // not a leaf
       "for (var k = 0u; k < src[0]; k++) { " + tick +
           "kem_meter_charge(2u); for (var j = 0u; j < 2u; j++) { s += j; } }"},
      {"for (var k = 0u; k < src[0]; k++) { workgroupBarrier(); }",  // the guard is not uniform
       "for (var k = 0u; k < src[0]; k++) { if kem_meter_tick_uniform() { break; } workgroupBarrier(); }"},
      {"for (var k = 0u; k < src[0]; k++) { sync(); }",  // reaches a barrier through a call
       "for (var k = 0u; k < src[0]; k++) { if kem_meter_tick_uniform() { break; } sync(); }"},
      {"for (var k = n; k < src[0]; k++) { s += k; }",  // k's type is not known to the analysis
       "for (var k = n; k < src[0]; k++) { " + tick + "s += k; }"},
      {"for (var k = n; k < 10u; k = k + 1u) { s += k; }",  // not a recognised update
       "for (var k = n; k < 10u; k = k + 1u) { " + tick + "s += k; }"},
  };
  std::string src =
      "struct U { lo: u32, hi: u32 }\n"
      "override O = 4;\n"
      "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> dst: array<u32>;\n"
      "@group(0) @binding(2) var<uniform> u: U;\n"
      "var<private> a: array<u32, 4>;\n"
      "var<workgroup> w: u32;\n"
      "fn f(x: u32) -> u32 { return x * 2u; }\n"
      "fn bump(p: ptr<function, u32>) { *p += 1u; }\n"
      "fn sync() { workgroupBarrier(); }\n"
      "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) id: u32) {\n"
      "  var s = 0u; let n = src[3]; let p = &s; var arr = array<u32, 2>(1u, 2u); let q = &arr;\n";
  const size_t first_line = 13;
  for (const Case& c : cases) src += "  " + c.loop + "\n";
  src += "  dst[0] = s;\n}\n";
  MeteredKernel m = meter_ok(src);
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(line_of(m.source, first_line + i), "  " + cases[i].metered) << cases[i].loop;
  EXPECT_EQ(m.range_loops, 7u);
  EXPECT_EQ(m.charged_loops, 1u);
  EXPECT_EQ(m.metered_loops, cases.size() - 7);
  EXPECT_TRUE(wgsl::parse_wgsl(m.source).ok());
  EXPECT_TRUE(reflect_wgsl(m.source).ok());
  EXPECT_NE(m.source.find("fn kem_meter_charge_range(first: u32, bound: u32, step: u32, inclusive: bool) -> bool {\n"),
            std::string::npos);
}

// A module that redeclares a builtin the guard relies on gets no guards at all.
TEST(Metering, ShadowedBuiltinsDisableRangeLoops) {
  MeteredKernel m = meter_ok(
      "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
      "fn min(a: u32, b: u32) -> u32 { return a; }\n"
      "@compute @workgroup_size(1) fn main() {\n"
      "  var s = 0u;\n"
      "  for (var k = 0u; k < src[0]; k++) { s += k; }\n"
      "}\n");
  EXPECT_EQ(m.range_loops, 0u);
  EXPECT_EQ(m.metered_loops, 1u);
}

TEST(Metering, KernelsWithoutLoopsStillReferenceTheMeter) {
  MeteredKernel m = meter_ok(wgsl::test::kKernels[0]);
  EXPECT_EQ(m.metered_loops, 0u);
  EXPECT_EQ(line_of(m.source, 4),
            "fn main(@builtin(global_invocation_id) id: vec3<u32>) { kem_meter_left = "
            "kem_meter.budget;");
}

TEST(Metering, ReservedBindingAndNameClashes) {
  Result<MeteredKernel> clash =
      meter_wgsl("@group(0) @binding(15) var<storage, read_write> x: array<u32>;\n"
                 "@compute @workgroup_size(1) fn main() { x[0] = 1u; }");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, ErrorCode::compile_error);
  EXPECT_EQ(clash.error().message,
            "1:49: @group(0) @binding(15) is reserved for KEM's loop meter; 'x' must use another "
            "binding");
  // Another reserved binding can be configured; then 15 is free for the kernel.
  MeteringOptions options;
  options.binding = 7;
  MeteredKernel moved = meter_ok(
      "@group(0) @binding(15) var<storage, read_write> x: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() { x[0] = 1u; }",
      options);
  EXPECT_EQ(moved.binding, 7u);
  EXPECT_NE(moved.source.find("@group(0) @binding(7) var<storage, read_write> kem_meter: "),
            std::string::npos);
  // A kernel whose own names start with the meter's prefix gets another prefix.
  MeteredKernel renamed = meter_ok(
      "var<private> kem_meter_count: u32;\n"
      "@compute @workgroup_size(1) fn main() { loop { kem_meter_count++; } }");
  EXPECT_EQ(line_of(renamed.source, 2),
            "@compute @workgroup_size(1) fn main() { kem_meter1_left = kem_meter1.budget; loop { if "
            "kem_meter1_tick() { break; } kem_meter_count++; } }");
  EXPECT_TRUE(wgsl::parse_wgsl(renamed.source).ok());
  // Syntax errors speak of the user's source.
  Result<MeteredKernel> bad = meter_wgsl("fn main() {\n  loop {\n}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "3:2: expected '}' to close the block, found end of input");
}

TEST(Metering, PositionsMapBackToTheOriginal) {
  MeteredKernel m = meter_ok(kLoops);
  // Line 5 is "  while i < 10u { if kem_meter_tick() { break; } i++; }" after metering: the
  // 31 inserted bytes sit after the '{' at column 17.
  OriginalLocation after = m.to_original(5, 19 + 31);
  EXPECT_EQ(after.line, 5u);
  EXPECT_EQ(after.column, 19u);
  EXPECT_FALSE(after.in_inserted_code);
  OriginalLocation before = m.to_original(5, 17);
  EXPECT_EQ(before.column, 17u);
  EXPECT_FALSE(before.in_inserted_code);
  OriginalLocation inside = m.to_original(5, 25);
  EXPECT_EQ(inside.line, 5u);
  EXPECT_EQ(inside.column, 18u);
  EXPECT_TRUE(inside.in_inserted_code);
  // Line 6 has two insertions; "break;" of the inner loop is at column 42 originally.
  const std::string line6 = line_of(m.source, 6);
  const size_t inner_break = line6.rfind("break; }");
  OriginalLocation b = m.to_original(6, inner_break + 1);
  EXPECT_EQ(b.line, 6u);
  EXPECT_EQ(b.column, 42u);
  EXPECT_FALSE(b.in_inserted_code);
  // The appended declarations map to the end of the user's source.
  OriginalLocation tail = m.to_original(m.source.find("fn kem_meter_tick"));
  EXPECT_TRUE(tail.in_inserted_code);
  EXPECT_EQ(tail.offset, kLoops.size());
  EXPECT_EQ(tail.line, 8u);
  EXPECT_EQ(tail.column, 2u);
  // Past the end and on lines that do not exist: clamped, never out of range.
  EXPECT_EQ(m.to_original(1u << 30).offset, kLoops.size());
  EXPECT_EQ(m.to_original(1000, 1).offset, kLoops.size());
}

// Every token of the original appears in the transformed text, in order, at a position that maps
// back to exactly its own line, column and offset; every other token maps into inserted code.
void expect_faithful_map(std::string_view original) {
  MeteredKernel m = meter_ok(original);
  Result<std::vector<wgsl::Token>> before = wgsl::tokenize(original);
  Result<std::vector<wgsl::Token>> after = wgsl::tokenize(m.source);
  ASSERT_TRUE(before.ok() && after.ok());
  size_t next = 0;
  for (const wgsl::Token& t : *after) {
    if (t.kind == wgsl::TokenKind::end) break;
    OriginalLocation loc = m.to_original(t.pos.offset);
    // Dawn reports a line and the byte position within it.
    const size_t newline = m.source.rfind('\n', t.pos.offset == 0 ? 0 : t.pos.offset - 1);
    const size_t line_begin = (newline == std::string::npos || t.pos.offset == 0) ? 0 : newline + 1;
    OriginalLocation by_line = m.to_original(t.pos.line, t.pos.offset - line_begin + 1);
    EXPECT_EQ(by_line.offset, loc.offset);
    if (loc.in_inserted_code) continue;
    ASSERT_LT(next, before->size() - 1) << "extra token " << t.text;
    const wgsl::Token& o = (*before)[next++];
    EXPECT_EQ(t.text, o.text);
    EXPECT_EQ(loc.offset, o.pos.offset);
    EXPECT_EQ(loc.line, o.pos.line);
    EXPECT_EQ(loc.column, o.pos.column);
    EXPECT_EQ(t.pos.line, o.pos.line) << "metering must not move a token to another line";
  }
  EXPECT_EQ(next, before->size() - 1) << "tokens of the original are missing";
}

TEST(Metering, MapIsFaithfulOnTheCorpus) {
  expect_faithful_map(wgsl::test::kEveryForm);
  for (std::string_view k : wgsl::test::kKernels) expect_faithful_map(k);
  expect_faithful_map(kLoops);
  // Charges go before the loop statement, before its attributes.
  expect_faithful_map(
      "@compute @workgroup_size(1) fn main() {var s = 0u; @diagnostic(off, derivative_uniformity) for (var i = "
      "0u; i < 4u; i++) { s += i; }\nfor (var j = 0u; j < 2u; j++) {for (var k = 0; k < 3; k++) {}} }");
  // Characters of several bytes before an insertion: columns still count characters.
  expect_faithful_map("// héllo\n@compute @workgroup_size(1) fn main() { /* é */ loop { break; } }");
}

TEST(Metering, CorpusStaysValidWgsl) {
  for (std::string_view k : wgsl::test::kKernels) {
    MeteredKernel m = meter_ok(k);
    Result<Reflection> before = reflect_wgsl(k);
    Result<Reflection> after = reflect_wgsl(m.source);
    ASSERT_TRUE(before.ok() && after.ok()) << (after.ok() ? "" : after.error().message);
    EXPECT_EQ(after->bindings.size(), before->bindings.size() + 1);
    ASSERT_EQ(after->entry_points.size(), before->entry_points.size());
    for (size_t i = 0; i < before->entry_points.size(); ++i) {
      EXPECT_EQ(after->entry_points[i].workgroup_size, before->entry_points[i].workgroup_size);
      EXPECT_EQ(after->entry_points[i].line, before->entry_points[i].line);
    }
  }
  MeteredKernel reduce = meter_ok(wgsl::test::kKernels[1]);
  EXPECT_EQ(reduce.metered_loops, 1u);
  EXPECT_EQ(reduce.uniform_loops, 1u);
  MeteredKernel mandel = meter_ok(wgsl::test::kKernels[2]);
  EXPECT_EQ(mandel.metered_loops, 1u);
  EXPECT_EQ(mandel.uniform_loops, 0u);
  MeteredKernel collatz = meter_ok(wgsl::test::kKernels[3]);
  EXPECT_EQ(collatz.metered_loops, 1u);
}

TEST(Metering, MutatedInputsGiveValidOutputOrTheReflectionError) {
  static constexpr std::string_view kPieces[] = {"{", "}", "(", ")", ";", "<", ">", "\n",
                                                 "loop ", "for ", "while ", "break ", "continuing"};
  std::mt19937 rng(99);
  std::vector<std::string_view> seeds(wgsl::test::kKernels.begin(), wgsl::test::kKernels.end());
  seeds.push_back(kLoops);
  int metered = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string src(seeds[i % seeds.size()]);
    for (int k = 0; k < 1; ++k) {
      size_t at = rng() % src.size();
      if (rng() % 2) src.erase(at, 1 + rng() % 4);
      else src.insert(at, kPieces[rng() % std::size(kPieces)]);
    }
    Result<Reflection> r = reflect_wgsl(src);
    Result<MeteredKernel> m = meter_wgsl(src);
    if (!r.ok()) {
      ASSERT_FALSE(m.ok());
      // A kernel that declares the reserved binding is refused even though it reflects.
      EXPECT_EQ(m.error().message, r.error().message);
      continue;
    }
    ASSERT_TRUE(m.ok()) << m.error().message << "\n" << src;
    Result<wgsl::Module> again = wgsl::parse_wgsl(m->source);
    ASSERT_TRUE(again.ok()) << again.error().message << "\n" << m->source;
    ++metered;
  }
  EXPECT_GT(metered, 200);
}

// Issue 19: a loop that never falls through (no break, no condition) in a function with a
// return type leaves the budget by `return T();`, so the function keeps no path to its end;
// other loops, loops in void functions and loops in a continuing block keep `break`.
TEST(Metering, LoopsWithoutBreakKeepTheirReturnPaths) {
  constexpr std::string_view src = R"(alias R = vec2<i32>;
fn f() -> i32 { var i: i32; loop { i += 1; if i > 4 { return i; } } }
fn g(n: u32) -> R { for (var k = 0u; ; k += n) { if k > 9u { return R(1, 2); } } }
fn h() -> u32 { var j = 0u; loop { loop { if j > 3u { return j; } continuing { j++; } } } }
fn v() { loop { if v2() { return; } } }
fn v2() -> bool { var x = 0u; loop { x++; continuing { loop { x++; break; } break if x > 2u; } } return true; }
fn w() -> i32 { var n = 0; while true { n++; if n > 2 { return n; } } return 0; }
@compute @workgroup_size(1) fn main() { _ = f(); _ = g(1u); _ = h(); v(); _ = w(); })";
  MeteredKernel m = meter_ok(src);
  const std::string tick = "if kem_meter_tick() ";
  EXPECT_EQ(line_of(m.source, 2),
            "fn f() -> i32 { var i: i32; loop { " + tick + "{ return i32(); } i += 1; if i > 4 { return i; } } }");
  EXPECT_EQ(line_of(m.source, 3),
            "fn g(n: u32) -> R { for (var k = 0u; ; k += n) { " + tick + "{ return R(); } if k > 9u { return R(1, 2); } } }");
  EXPECT_EQ(line_of(m.source, 4),
            "fn h() -> u32 { var j = 0u; loop { " + tick + "{ return u32(); } loop { " + tick +
                "{ return u32(); } if j > 3u { return j; } continuing { j++; } } } }");
  EXPECT_EQ(line_of(m.source, 5), "fn v() { loop { " + tick + "{ break; } if v2() { return; } } }");
  EXPECT_EQ(line_of(m.source, 6),
            "fn v2() -> bool { var x = 0u; loop { " + tick + "{ return bool(); } x++; continuing { loop { " +
                tick + "{ break; } x++; break; } break if x > 2u; } } return true; }");
  EXPECT_EQ(line_of(m.source, 7),
            "fn w() -> i32 { var n = 0; while true { " + tick + "{ break; } n++; if n > 2 { return n; } } return 0; }");
  EXPECT_EQ(m.metered_loops, 8u);
}

// Issue 19: the 16-byte workgroup flag of loops with barriers is added only where it fits
// beside the kernel's own workgroup variables (MeteringOptions::workgroup_storage_limit).
TEST(Metering, TheWorkgroupFlagOnlyWhereItFits) {
  auto kernel = [](int floats) {
    return "var<workgroup> tile: array<f32, " + std::to_string(floats) + ">;\n"
           "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) l: u32) {\n"
           "  loop { tile[l] = 1.0; workgroupBarrier(); if tile[0] > 2.0 { break; } }\n"
           "}\n";
  };
  MeteringOptions options;
  options.workgroup_storage_limit = 16384;
  // 4092 floats are 16,368 bytes: the flag's 16 still fit.
  MeteredKernel room = meter_ok(kernel(4092), options);
  EXPECT_EQ(room.uniform_loops, 1u);
  EXPECT_EQ(room.capped_loops, 0u);
  EXPECT_EQ(line_of(room.source, 3),
            "  loop { if kem_meter_tick_uniform() { break; } tile[l] = 1.0; workgroupBarrier(); if tile[0] > 2.0 { break; } }");
  EXPECT_NE(room.source.find("var<workgroup> kem_meter_halt: bool;"), std::string::npos);
  // 4096 floats are the whole 16 KiB: the loop counts in a function-scope variable instead.
  MeteredKernel full = meter_ok(kernel(4096), options);
  EXPECT_EQ(full.uniform_loops, 1u);
  EXPECT_EQ(full.capped_loops, 1u);
  EXPECT_EQ(line_of(full.source, 2),
            "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) l: u32) { "
            "kem_meter_left = kem_meter.budget; var kem_meter_count = 0u;");
  EXPECT_EQ(line_of(full.source, 3),
            "  loop { _ = kem_meter_tick(); kem_meter_count += 1u; if kem_meter_count > 16777216u { break; } "
            "tile[l] = 1.0; workgroupBarrier(); if tile[0] > 2.0 { break; } }");
  EXPECT_EQ(full.source.find("kem_meter_halt"), std::string::npos);
  // With the 32 KiB of a larger device, the flag fits again.
  options.workgroup_storage_limit = 32768;
  EXPECT_EQ(meter_ok(kernel(4096), options).capped_loops, 0u);
}

// Issue 19: what a function reaches through calls (a barrier, a loop) climbs a long call chain
// against the order of the names in one linear search, with the same answer as before.
TEST(Metering, LongCallChainsAreFollowedToTheEnd) {
  const int n = 20000;
  auto name = [](int i) {
    std::string d = std::to_string(i);
    return "f" + std::string(6 - d.size(), '0') + d;
  };
  std::string src;
  for (int i = 0; i + 1 < n; ++i) src += "fn " + name(i) + "() { " + name(i + 1) + "(); }\n";
  src += "fn " + name(n - 1) + "() { workgroupBarrier(); }\n";
  src += "@compute @workgroup_size(64) fn main() {\n"
         "  for (var k = 0; k < 4; k++) { " + name(0) + "(); }\n"
         "  loop { " + name(n / 2) + "(); break; }\n"
         "  loop { break; }\n}\n";
  const auto start = std::chrono::steady_clock::now();
  MeteredKernel m = meter_ok(src);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The counted `for` is charged (its calls hold no loop); the first `loop` reaches the barrier
  // through 10,000 calls and leaves together; the last is per invocation.
  EXPECT_EQ(m.charged_loops, 1u);
  EXPECT_EQ(m.metered_loops, 2u);
  EXPECT_EQ(m.uniform_loops, 1u);
}

// Issue 19: a function's invariance analysis is built once for all its range loops, not per loop
// (10,000 loops took over a minute).
TEST(Metering, ManyRangeLoopsInOneFunctionTakeLinearTime) {
  std::string src = "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
                    "@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n"
                    "@compute @workgroup_size(1) fn main() {\n  var t = 0u;\n";
  for (int i = 0; i < 10000; ++i) src += "  for (var i = 0u; i < src[1]; i++) { t += i; }\n";
  src += "  out[0] = t;\n}\n";
  const auto start = std::chrono::steady_clock::now();
  MeteredKernel m = meter_ok(src);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(m.range_loops, 10000u);
  EXPECT_EQ(line_of(m.source, 5),
            "  if kem_meter_range_u32(0u, src[1], 1u, true, false) { for (var i = 0u; i < src[1]; i++) { t += i; } }");
}

TEST(Metering, EffectiveBudget) {
  EXPECT_EQ(effective_loop_budget(16777216, std::nullopt), 16777216u);
  EXPECT_EQ(effective_loop_budget(1000, 10), 10u);
  EXPECT_EQ(effective_loop_budget(1000, 0), 0u);
  EXPECT_EQ(effective_loop_budget(1000, 5000), 1000u);  // a request never raises the budget
  EXPECT_EQ(effective_loop_budget(1000, 1ull << 40), 1000u);
}

}  // namespace
}  // namespace kem
