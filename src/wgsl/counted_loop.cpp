#include "counted_loop.h"

#include <limits>

#include "ast_visit.h"
#include "const_eval.h"

namespace kem::wgsl {
namespace {

bool is_name(const Expr* e, const std::string& name) {
  return e && e->kind == ExprKind::identifier && e->template_args.empty() && e->text == name;
}

// The variable an assignment target or `&` operand finally names: a[i].b -> a, *p -> p.
const Expr* root_of(const Expr& e) {
  const Expr* x = &e;
  while ((x->kind == ExprKind::index || x->kind == ExprKind::member || x->kind == ExprKind::unary) &&
         !x->operands.empty())
    x = x->operands[0].get();
  return x;
}

}  // namespace

bool is_plain_leaf_body(const Stmt& body, const std::string& var_name,
                        const std::set<std::string>& functions_with_loops) {
  bool ok = true;
  visit_stmt(
      body,
      [&](const Stmt& s) {
        switch (s.kind) {
          case StmtKind::loop:
          case StmtKind::for_:
          case StmtKind::while_:
          case StmtKind::break_:
          case StmtKind::break_if:
          case StmtKind::return_:
          case StmtKind::discard: ok = false; break;
          case StmtKind::assignment:
          case StmtKind::increment:
          case StmtKind::decrement:
            if (s.lhs && is_name(root_of(*s.lhs), var_name)) ok = false;
            break;
          case StmtKind::declaration:
            if (s.decl && s.decl->name == var_name) ok = false;
            break;
          default: break;
        }
      },
      [&](const Expr& e) {
        if (e.kind == ExprKind::call && functions_with_loops.contains(e.text)) ok = false;
        if (e.kind == ExprKind::unary && e.text == "&" && is_name(root_of(*e.operands[0]), var_name)) ok = false;
      });
  return ok;
}

int64_t min_of(IntType t) { return t == IntType::i32 ? std::numeric_limits<int32_t>::min() : 0; }
int64_t max_of(IntType t) {
  return t == IntType::i32 ? std::numeric_limits<int32_t>::max() : std::numeric_limits<uint32_t>::max();
}

std::optional<int64_t> constant_in(ConstEvaluator& eval, const Expr& e, IntType type) {
  Result<IntValue> v = eval.evaluate(e);
  if (!v || (v->type != IntType::abstract && v->type != type)) return std::nullopt;
  if (v->value < min_of(type) || v->value > max_of(type)) return std::nullopt;
  return v->value;
}

bool only_module_consts(const Expr& e, const Module& module, const std::set<std::string>& locals) {
  bool ok = true;
  visit_expr(e, [&](const Expr& x) {
    if (x.kind != ExprKind::identifier) return;
    if (locals.contains(x.text)) {
      ok = false;
      return;
    }
    bool is_const = false;
    for (const VarDecl& g : module.globals)
      if (g.name == x.text) is_const = g.keyword == "const";
    if (!is_const) ok = false;
  });
  return ok;
}

std::set<std::string> declared_names(const Function& f) {
  std::set<std::string> names;
  for (const Param& p : f.params) names.insert(p.name);
  if (f.body)
    visit_stmt(
        *f.body,
        [&](const Stmt& s) {
          if (s.decl) names.insert(s.decl->name);
        },
        [](const Expr&) {});
  return names;
}

std::optional<CountedFor> counted_for(const Stmt& loop) {
  if (loop.kind != StmtKind::for_ || !loop.init || !loop.expr || !loop.update || !loop.body) return std::nullopt;
  const Stmt& init = *loop.init;
  if (init.kind != StmtKind::declaration || !init.decl || init.decl->keyword != "var" || !init.decl->initializer)
    return std::nullopt;
  CountedFor out;
  out.var = init.decl.get();
  out.start = init.decl->initializer.get();

  // The comparison: I CMP BOUND.
  const Expr& cond = *loop.expr;
  if (cond.kind != ExprKind::binary || !is_name(cond.operands[0].get(), out.var->name)) return std::nullopt;
  const std::string& cmp = cond.text;
  out.up = cmp == "<" || cmp == "<=";
  if (!out.up && cmp != ">" && cmp != ">=") return std::nullopt;
  out.inclusive = cmp == "<=" || cmp == ">=";
  out.bound = cond.operands[1].get();

  // The update: one step towards the bound.
  const Stmt& update = *loop.update;
  if (!update.lhs || !is_name(update.lhs.get(), out.var->name)) return std::nullopt;
  if (update.kind == (out.up ? StmtKind::increment : StmtKind::decrement)) return out;
  if (update.kind == StmtKind::assignment && update.op == (out.up ? "+=" : "-=") && update.expr) {
    out.step = update.expr.get();
    return out;
  }
  return std::nullopt;
}

std::optional<uint32_t> charged_trip_count(const Stmt& loop, const ChargeContext& context) {
  const Module& module = context.module;
  const std::set<std::string>& locals = context.locals;
  std::optional<CountedFor> shape = counted_for(loop);
  if (!shape) return std::nullopt;
  const VarDecl& var = *shape->var;
  const bool up = shape->up;
  const Expr* step_expr = shape->step;
  const Expr& bound_expr = *shape->bound;
  if (!only_module_consts(*var.initializer, module, locals) || !only_module_consts(bound_expr, module, locals) ||
      (step_expr && !only_module_consts(*step_expr, module, locals)))
    return std::nullopt;

  // The loop variable's type: as declared, else its initializer's (an abstract integer is i32).
  ConstEvaluator& eval = context.constants;
  Result<IntValue> start_value = eval.evaluate(*var.initializer);
  if (!start_value) return std::nullopt;
  IntType type = start_value->type == IntType::abstract ? IntType::i32 : start_value->type;
  if (var.type) {
    if (var.type->kind != ExprKind::identifier || !var.type->template_args.empty()) return std::nullopt;
    if (var.type->text == "u32") type = IntType::u32;
    else if (var.type->text == "i32") type = IntType::i32;
    else return std::nullopt;
  }
  std::optional<int64_t> start = constant_in(eval, *var.initializer, type);
  std::optional<int64_t> bound = constant_in(eval, bound_expr, type);
  std::optional<int64_t> step = step_expr ? constant_in(eval, *step_expr, type) : std::optional<int64_t>(1);
  if (!start || !bound || !step || *step < 1) return std::nullopt;

  // Iterations, and the value after the last one, which must not wrap around.
  const bool inclusive = shape->inclusive;
  const int64_t distance = up ? *bound - *start : *start - *bound;  // at most 2^32 in magnitude
  int64_t trips = 0;
  if (distance > 0 || (distance == 0 && inclusive))
    trips = inclusive ? distance / *step + 1 : (distance + *step - 1) / *step;
  if (trips > kMaxChargedTrips) return std::nullopt;
  if (trips > 0) {
    const int64_t after_last = up ? *start + trips * *step : *start - trips * *step;  // no overflow: trips <= 2^16
    if (after_last > max_of(type) || after_last < min_of(type)) return std::nullopt;
  }
  if (!is_plain_leaf_body(*loop.body, var.name, context.functions_with_loops)) return std::nullopt;
  return static_cast<uint32_t>(trips);
}

}  // namespace kem::wgsl
