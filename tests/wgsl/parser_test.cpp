// The parser on the corpus of every form, and the shape of the trees it builds: precedence,
// associativity, template lists, statement structure.
#include <gtest/gtest.h>

#include "corpus.h"
#include "parser.h"

namespace kem::wgsl {
namespace {

// Writes an expression as an S-expression: "(+ a (* b c))", "f<T>(x)", "a[i]", "(. v x)".
std::string sexpr(const Expr& e) {
  std::string out;
  auto templ = [&] {
    if (e.template_args.empty()) return;
    out += "<";
    for (size_t i = 0; i < e.template_args.size(); ++i)
      out += (i ? "," : "") + sexpr(*e.template_args[i]);
    out += ">";
  };
  switch (e.kind) {
    case ExprKind::int_literal:
    case ExprKind::float_literal:
    case ExprKind::bool_literal: return e.text;
    case ExprKind::identifier:
      out = e.text;
      templ();
      return out;
    case ExprKind::call:
      out = e.text;
      templ();
      out += "(";
      for (size_t i = 0; i < e.operands.size(); ++i) out += (i ? "," : "") + sexpr(*e.operands[i]);
      return out + ")";
    case ExprKind::index: return sexpr(*e.operands[0]) + "[" + sexpr(*e.operands[1]) + "]";
    case ExprKind::member: return "(. " + sexpr(*e.operands[0]) + " " + e.text + ")";
    case ExprKind::unary: return "(" + e.text + " " + sexpr(*e.operands[0]) + ")";
    case ExprKind::binary:
      return "(" + e.text + " " + sexpr(*e.operands[0]) + " " + sexpr(*e.operands[1]) + ")";
  }
  return "?";
}

// The initializer of `let x = <expr>;` inside a function, as an S-expression.
std::string parse_expr(std::string_view expr) {
  std::string src = "fn f() { let x = " + std::string(expr) + "; }";
  Result<Module> m = parse_wgsl(src);
  if (!m) return "error: " + m.error().message;
  return sexpr(*m->functions[0].body->statements[0]->decl->initializer);
}

TEST(Parser, EveryFormParses) {
  Result<Module> m = parse_wgsl(test::kEveryForm);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->directives.size(), 4u);
  EXPECT_EQ(m->aliases.size(), 2u);
  EXPECT_EQ(m->structs.size(), 2u);
  EXPECT_EQ(m->structs[0].members.size(), 3u);
  EXPECT_EQ(m->globals.size(), 12u);
  EXPECT_EQ(m->const_asserts.size(), 1u);
  ASSERT_EQ(m->functions.size(), 7u);
  EXPECT_EQ(m->functions[5].name, "main");
  EXPECT_EQ(m->functions[5].params.size(), 2u);
}

TEST(Parser, KernelCorpusParses) {
  for (std::string_view k : test::kKernels) {
    Result<Module> m = parse_wgsl(k);
    EXPECT_TRUE(m.ok()) << m.error().message << "\n" << k;
  }
}

TEST(Parser, Precedence) {
  EXPECT_EQ(parse_expr("a + b * c"), "(+ a (* b c))");
  EXPECT_EQ(parse_expr("a * b + c"), "(+ (* a b) c)");
  EXPECT_EQ(parse_expr("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(parse_expr("a / b % c * d"), "(* (% (/ a b) c) d)");
  EXPECT_EQ(parse_expr("a + b < c * d"), "(< (+ a b) (* c d))");
  EXPECT_EQ(parse_expr("a << 2u"), "(<< a 2u)");
  EXPECT_EQ(parse_expr("a >> b == c"), "(== (>> a b) c)");
  EXPECT_EQ(parse_expr("a < b && c >= d && e"), "(&& (&& (< a b) (>= c d)) e)");
  EXPECT_EQ(parse_expr("a || b != c"), "(|| a (!= b c))");
  EXPECT_EQ(parse_expr("a & b & c"), "(& (& a b) c)");
  EXPECT_EQ(parse_expr("-a | ~b"), "(| (- a) (~ b))");
  EXPECT_EQ(parse_expr("!a.b[1].c"), "(! (. (. a b)[1] c))");
  EXPECT_EQ(parse_expr("*&p"), "(* (& p))");
  EXPECT_EQ(parse_expr("-(a + b) * c"), "(* (- (+ a b)) c)");
  EXPECT_EQ(parse_expr("f(a, b + 1,)"), "f(a,(+ b 1))");
  EXPECT_EQ(parse_expr("0x1Fu + 1.5e3f + .5 + 1i"), "(+ (+ (+ 0x1Fu 1.5e3f) .5) 1i)");
}

TEST(Parser, TemplateListDisambiguation) {
  EXPECT_EQ(parse_expr("array<vec2<f32>, 2>()"), "array<vec2<f32>,2>()");
  EXPECT_EQ(parse_expr("vec3<f32>(1.0)"), "vec3<f32>(1.0)");
  EXPECT_EQ(parse_expr("array<array<u32, 2>>()"), "array<array<u32,2>>()");
  EXPECT_EQ(parse_expr("bitcast<u32>(x) >> 2u"), "(>> bitcast<u32>(x) 2u)");
  EXPECT_EQ(parse_expr("a < b"), "(< a b)");
  EXPECT_EQ(parse_expr("a<b || c>d"), "(|| (< a b) (> c d))");
  EXPECT_EQ(parse_expr("(a<b) == (c>d)"), "(== (< a b) (> c d))");
  EXPECT_EQ(parse_expr("f(a<b, c)"), "f((< a b),c)");
  EXPECT_EQ(parse_expr("a[i<j]"), "a[(< i j)]");
  EXPECT_EQ(parse_expr("x >= y"), "(>= x y)");
  // The spec's rule: an identifier, '<', and a '>' at the same depth form a template list.
  EXPECT_EQ(parse_expr("a<b>(c)"), "a<b>(c)");
  Result<Module> m = parse_wgsl("var<private> v: vec2<f32>= vec2<f32>(1.0);");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(sexpr(*m->globals[0].type), "vec2<f32>");
  EXPECT_EQ(sexpr(*m->globals[0].var_template[0]), "private");
  Result<Module> ptr = parse_wgsl("fn f(p: ptr<storage, array<atomic<u32>>, read_write>) {}");
  ASSERT_TRUE(ptr.ok()) << ptr.error().message;
  EXPECT_EQ(sexpr(*ptr->functions[0].params[0].type),
            "ptr<storage,array<atomic<u32>>,read_write>");
}

TEST(Parser, StatementStructureAndPositions) {
  Result<Module> m = parse_wgsl(R"(fn f() {
  for (var i = 0; i < 4; i++) { continue; }
  loop {
    if a { break; }
    continuing { x += 1; break if x > 3; }
  }
  while b { }
  switch c { case 1, default: { } }
  _ = g();
})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  const auto& body = m->functions[0].body->statements;
  ASSERT_EQ(body.size(), 5u);
  const Stmt& f = *body[0];
  EXPECT_EQ(f.kind, StmtKind::for_);
  EXPECT_EQ(f.pos.line, 2u);
  EXPECT_EQ(f.pos.column, 3u);
  EXPECT_EQ(f.init->kind, StmtKind::declaration);
  EXPECT_EQ(sexpr(*f.expr), "(< i 4)");
  EXPECT_EQ(f.update->kind, StmtKind::increment);
  EXPECT_EQ(f.body->pos.column, 31u);
  EXPECT_EQ(f.body->statements[0]->kind, StmtKind::continue_);
  const Stmt& l = *body[1];
  EXPECT_EQ(l.kind, StmtKind::loop);
  EXPECT_EQ(l.body->pos.line, 3u);
  EXPECT_EQ(l.body->pos.column, 8u);
  ASSERT_EQ(l.body->statements.size(), 1u);
  EXPECT_EQ(l.body->statements[0]->kind, StmtKind::if_);
  ASSERT_TRUE(l.continuing);
  ASSERT_EQ(l.continuing->statements.size(), 2u);
  EXPECT_EQ(l.continuing->statements[0]->op, "+=");
  EXPECT_EQ(l.continuing->statements[1]->kind, StmtKind::break_if);
  EXPECT_EQ(sexpr(*l.continuing->statements[1]->expr), "(> x 3)");
  EXPECT_EQ(body[2]->kind, StmtKind::while_);
  ASSERT_EQ(body[3]->clauses.size(), 1u);
  EXPECT_TRUE(body[3]->clauses[0].is_default);
  EXPECT_EQ(body[3]->clauses[0].selectors.size(), 2u);
  EXPECT_EQ(body[4]->kind, StmtKind::assignment);
  EXPECT_EQ(body[4]->lhs, nullptr);
  // `end` is the byte offset past the statement's last token.
  std::string_view src = R"(fn g() { x[1] = 2; })";
  Result<Module> g = parse_wgsl(src);
  ASSERT_TRUE(g.ok());
  const Stmt& a = *g->functions[0].body->statements[0];
  EXPECT_EQ(src.substr(a.pos.offset, a.end - a.pos.offset), "x[1] = 2;");
}

TEST(Parser, IsKeyword) {
  EXPECT_TRUE(is_keyword("loop"));
  EXPECT_TRUE(is_keyword("const_assert"));
  EXPECT_FALSE(is_keyword("u32"));
  EXPECT_FALSE(is_keyword("main"));
}

}  // namespace
}  // namespace kem::wgsl
