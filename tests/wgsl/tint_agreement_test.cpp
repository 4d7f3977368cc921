// WGSL that Tint accepts and KEM's front end once refused (issue 19, part 2): each case is
// checked against what the WGSL grammar and Tint make of it, written out by hand.
#include <gtest/gtest.h>

#include "kem/reflection.h"
#include "reflect_support.h"
#include "metering.h"
#include "parser.h"

namespace kem::wgsl {
namespace {

// The initializer of `let x = <expr>;` as an S-expression of unary and binary operators.
std::string sexpr(const Expr& e) {
  switch (e.kind) {
    case ExprKind::unary: return "(" + e.text + " " + sexpr(*e.operands[0]) + ")";
    case ExprKind::binary:
      return "(" + e.text + " " + sexpr(*e.operands[0]) + " " + sexpr(*e.operands[1]) + ")";
    case ExprKind::index: return sexpr(*e.operands[0]) + "[" + sexpr(*e.operands[1]) + "]";
    default: return e.text;
  }
}

std::string parse_expr(std::string_view expr) {
  std::string src = "fn f() { let x = " + std::string(expr) + "; }";
  Result<Module> m = parse_wgsl(src);
  if (!m) return "error: " + m.error().message;
  return sexpr(*m->functions[0].body->statements[0]->decl->initializer);
}

// WGSL has no prefix decrement: outside the statement `i--;` a '--' is two minus signs.
TEST(TintAgreement, DoubleMinusIsTwoMinusSigns) {
  EXPECT_EQ(parse_expr("b--b"), "(- b (- b))");
  EXPECT_EQ(parse_expr("--b"), "(- (- b))");
  EXPECT_EQ(parse_expr("---b"), "(- (- (- b)))");
  EXPECT_EQ(parse_expr("input[2--b]"), "input[(- 2 (- b))]");
  EXPECT_EQ(parse_expr("a - --b"), "(- a (- (- b)))");
  // `a----b` lexes as '--' '--': the additive loop takes one '-' as the operator, the unary
  // parse the other three.
  EXPECT_EQ(parse_expr("a----b"), "(- a (- (- (- b))))");
  EXPECT_EQ(parse_expr("i--1i"), "(- i (- 1i))");
  EXPECT_EQ(parse_expr("a--b*c"), "(- a (* (- b) c))");
  EXPECT_EQ(parse_expr("a--"), "error: 1:21: expected expression, found ';'");
}

TEST(TintAgreement, DecrementStatementsStillParse) {
  Result<Module> m = parse_wgsl(R"(fn f() {
  var i = 3i;
  i--;
  i = i--1i;
  for (var j = 0; j < 4; j--) { i--; }
})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto& body = m->functions[0].body->statements;
  ASSERT_EQ(body.size(), 4u);
  EXPECT_EQ(body[1]->kind, StmtKind::decrement);
  EXPECT_EQ(body[2]->kind, StmtKind::assignment);
  EXPECT_EQ(sexpr(*body[2]->expr), "(- i (- 1i))");
  EXPECT_EQ(body[3]->kind, StmtKind::for_);
}

// Dawn's statements/decrement/split.wgsl shape: reflected and metered, the text kept as written.
TEST(TintAgreement, SplitDecrementKernelReflectsAndMeters) {
  constexpr std::string_view src = R"(@group(0) @binding(0) var<storage, read_write> out: array<i32>;
@compute @workgroup_size(1)
fn main() {
  var b = 2;
  var c = b--b;
  out[0] = c + out[2--b];
}
)";
  Result<Reflection> r = reflect_wgsl(src);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->entry_points.size(), 1u);
  Result<MeteredKernel> m = meter_wgsl(src);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NE(m->source.find("  var c = b--b;\n  out[0] = c + out[2--b];\n"), std::string::npos);
}


using test::reflect_error;
using test::reflect_ok;

// The const-evaluable builtins, members, elements and aliases that WGSL allows in
// @workgroup_size (Dawn's types/functions/shader_io/compute_workgroup_expression.wgsl uses clamp).
TEST(TintAgreement, WorkgroupSizeExpressions) {
  Reflection r = reflect_ok(R"(@id(0) override x_dim = 2;
alias U = u32;
alias V = vec3<U>;
const n: U = 64u;
const dims = vec3u(4, 2, 1);
const sizes = array<u32, 3>(8u, 16u, 32u);
const wide: V = V(3u, 5u, 7u);
const grid = array(vec2i(1, 2), vec2i(3, 4));
@compute @workgroup_size(1 + 2, x_dim, clamp((1 - 2) + 4, 0, 5)) fn a() {}
@compute @workgroup_size(min(n, 32u), max(2, 7), abs(-5)) fn b() {}
@compute @workgroup_size(dims.x, dims[1], select(9, 4, n > 32u)) fn c() {}
@compute @workgroup_size(sizes[2], sizes[0] * dims.y, wide.zy.y) fn d() {}
@compute @workgroup_size(U(n) / 2u, clamp(100, 1, 8), select(1u, 2u, !(dims.z == 1u) || false)) fn e() {}
@compute @workgroup_size(grid[1].y, grid[0][1] + i32(true), vec4<U>(dims, 9u).w) fn f() {}
)");
  ASSERT_EQ(r.entry_points.size(), 6u);
  EXPECT_EQ(r.entry_points[0].workgroup_size, (std::array<uint32_t, 3>{3, 2, 3}));
  EXPECT_EQ(r.entry_points[1].workgroup_size, (std::array<uint32_t, 3>{32, 7, 5}));
  EXPECT_EQ(r.entry_points[2].workgroup_size, (std::array<uint32_t, 3>{4, 2, 4}));
  EXPECT_EQ(r.entry_points[3].workgroup_size, (std::array<uint32_t, 3>{32, 16, 5}));
  EXPECT_EQ(r.entry_points[4].workgroup_size, (std::array<uint32_t, 3>{32, 8, 1}));
  EXPECT_EQ(r.entry_points[5].workgroup_size, (std::array<uint32_t, 3>{4, 3, 9}));
}

TEST(TintAgreement, WorkgroupSizeExpressionErrors) {
  EXPECT_EQ(reflect_error("const a = array(1, 2, 3);\n@compute @workgroup_size(a[3]) fn main() {}"),
            "2:28: index 3 is out of bounds (3 elements)");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(min(1u, 2i)) fn main() {}"),
            "1:26: min(...) mixes u32 and i32");
  EXPECT_EQ(reflect_error("const d = vec2u(1, 2);\n@compute @workgroup_size(d) fn main() {}"),
            "2:26: expected an integer, found a vector or array");
  EXPECT_EQ(reflect_error("const d = vec2u(1, 2);\n@compute @workgroup_size(d.z) fn main() {}"),
            "2:26: 'z' is not a member of this constant");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(clamp(1, 5, 2)) fn main() {}"),
            "1:26: clamp(...) with low greater than high");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(sqrt(4)) fn main() {}"),
            "1:26: only value constructors (u32, i32, bool, vectors, arrays) and abs, min, max, "
            "clamp, select may be called in an integer constant, found sqrt(...)");
  EXPECT_EQ(reflect_error("alias F = f32;\nconst k: F = 2;\n@compute @workgroup_size(k) fn main() {}"),
            "2:10: 'k' has type F, an integer (i32 or u32) is needed here");
}

}  // namespace
}  // namespace kem::wgsl
