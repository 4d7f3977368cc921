// Pre-order walks over the syntax tree. Recursion depth is bounded by the parser's limits
// (kMaxNesting statements, kMaxExpressionHeight expressions), so walks cannot overflow the stack.
#pragma once

#include <functional>

#include "ast.h"

namespace kem::wgsl {

using ExprVisitor = std::function<void(const Expr&)>;
using StmtVisitor = std::function<void(const Stmt&)>;

inline void visit_expr(const Expr& e, const ExprVisitor& on_expr) {
  on_expr(e);
  for (const auto& t : e.template_args) visit_expr(*t, on_expr);
  for (const auto& o : e.operands) visit_expr(*o, on_expr);
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
