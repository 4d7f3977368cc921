// Pre-order walks over the syntax tree. Statement walks recurse, bounded by the parser's
// kMaxNesting (256); expression walks keep their own work list.
#pragma once

#include <functional>
#include <vector>

#include "ast.h"

namespace kem::wgsl {

using ExprVisitor = std::function<void(const Expr&)>;
using StmtVisitor = std::function<void(const Stmt&)>;

// Iterative: an expression may be kMaxExpressionHeight (1,024) levels high, and recursion that
// deep overflowed a 256 KiB stack under AddressSanitizer (tests/wgsl/small_stack_test.cpp).
inline void visit_expr(const Expr& root, const ExprVisitor& on_expr) {
  std::vector<const Expr*> work{&root};
  while (!work.empty()) {
    const Expr& e = *work.back();
    work.pop_back();
    on_expr(e);
    // Pushed in reverse, so that they are visited in order: template arguments, then operands.
    for (auto o = e.operands.rbegin(); o != e.operands.rend(); ++o) work.push_back(o->get());
    for (auto t = e.template_args.rbegin(); t != e.template_args.rend(); ++t) work.push_back(t->get());
  }
}

// Every statement nested in `s` (including `s`) and every expression they contain.
inline void visit_stmt(const Stmt& s, const StmtVisitor& on_stmt, const ExprVisitor& on_expr) {
  on_stmt(s);
  auto expr = [&](const ExprPtr& e) {
    if (e) visit_expr(*e, on_expr);
  };
  auto stmt = [&](const StmtPtr& child) {
    if (child) visit_stmt(*child, on_stmt, on_expr);
  };
  expr(s.lhs);
  expr(s.expr);
  if (s.decl) {
    expr(s.decl->type);
    expr(s.decl->initializer);
  }
  stmt(s.init);
  stmt(s.update);
  for (const auto& child : s.statements) stmt(child);
  stmt(s.body);
  stmt(s.else_branch);
  stmt(s.continuing);
  for (const SwitchClause& c : s.clauses) {
    for (const auto& sel : c.selectors) expr(sel);
    stmt(c.body);
  }
}

}  // namespace kem::wgsl
