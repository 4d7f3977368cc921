#include "range_loop.h"

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "ast_visit.h"

namespace kem::wgsl {
namespace {

// Builtins a START or BOUND may call: pure, so a second evaluation gives the same value. The
// metered code also relies on u32, i32 and bitcast; a module or function that declares any of
// these names (WGSL lets declarations shadow builtins) gets no range loops.
const std::set<std::string>& pure_builtins() {
  static const std::set<std::string> names = {"min", "max", "clamp", "abs", "select",
                                              "u32", "i32", "bitcast", "arrayLength"};
  return names;
}

bool is_ptr_type(const Expr* type) { return type && type->kind == ExprKind::identifier && type->text == "ptr"; }

}  // namespace

// Whether expressions of one function are loop-invariant and side-effect free. The values they
// may read are immutable for the whole dispatch: constants, overrides, `let`s, parameters, and
// storage the kernel cannot write (WebGPU forbids binding one buffer writable and read-only in
// the same dispatch). Everything else is refused, since the loop's body might change it.
class RangeInvariance {
 public:
  RangeInvariance(const Module& module, const Function& function, bool module_shadows) : module_(module) {
    for (const Param& p : function.params) {
      local_ok_[p.name] = local_ok_.contains(p.name) ? local_ok_[p.name] && !is_ptr_type(p.type.get())
                                                     : !is_ptr_type(p.type.get());
      if (is_ptr_type(p.type.get())) pointers_.insert(p.name);
    }
    std::vector<const VarDecl*> decls;
    if (function.body)
      visit_stmt(
          *function.body, [&](const Stmt& s) { if (s.decl) decls.push_back(s.decl.get()); }, [](const Expr&) {});
    // Pointer-valued lets: `let p = &v;` and lets made from those. A fixpoint, since a later
    // declaration may feed an earlier one's name in another scope.
    for (bool changed = true; changed;) {
      changed = false;
      for (const VarDecl* d : decls) {
        if (d->keyword == "var" || pointers_.contains(d->name)) continue;
        if (is_ptr_type(d->type.get()) || (d->initializer && makes_pointer(*d->initializer))) {
          pointers_.insert(d->name);
          changed = true;
        }
      }
    }
    for (const VarDecl* d : decls) {
      ++declared_count_[d->name];
      const bool ok = (d->keyword == "let" || d->keyword == "const") && !pointers_.contains(d->name);
      local_ok_[d->name] = local_ok_.contains(d->name) ? local_ok_[d->name] && ok : ok;
    }
    shadows_builtin_ = module_shadows;
    for (const std::string& b : pure_builtins()) shadows_builtin_ = shadows_builtin_ || local_ok_.contains(b);
  }

  // Whether a module-scope declaration shadows one of the pure builtins; the same for every
  // function, so computed once per module (module_shadows_pure_builtin).
  static bool module_shadows_pure_builtin(const Module& module) {
    bool shadows = false;
    for (const Function& f : module.functions) shadows = shadows || pure_builtins().contains(f.name);
    for (const StructDecl& s : module.structs) shadows = shadows || pure_builtins().contains(s.name);
    for (const Alias& a : module.aliases) shadows = shadows || pure_builtins().contains(a.name);
    for (const VarDecl& g : module.globals) shadows = shadows || pure_builtins().contains(g.name);
    return shadows;
  }

  bool usable() const { return !shadows_builtin_; }

  bool invariant(const Expr& e) const {
    switch (e.kind) {
      case ExprKind::int_literal:
      case ExprKind::float_literal:
      case ExprKind::bool_literal: return true;
      case ExprKind::identifier: return e.template_args.empty() && name_ok(e.text);
      case ExprKind::call:
        if (e.text == "arrayLength")  // the length of a binding never changes, even if writable
          return e.operands.size() == 1 && e.operands[0]->kind == ExprKind::unary && e.operands[0]->text == "&" &&
                 is_storage_reference(*e.operands[0]->operands[0]);
        if (!pure_builtins().contains(e.text)) return false;
        for (const ExprPtr& o : e.operands)
          if (!invariant(*o)) return false;
        return true;  // template arguments are types
      case ExprKind::index: return invariant(*e.operands[0]) && invariant(*e.operands[1]);
      case ExprKind::member: return invariant(*e.operands[0]);
      case ExprKind::unary:
        return (e.text == "-" || e.text == "!" || e.text == "~") && invariant(*e.operands[0]);
      case ExprKind::binary: return invariant(*e.operands[0]) && invariant(*e.operands[1]);
    }
    return false;
  }

  // The declared u32 / i32 type of parameter `name`, if it is one and nothing else is so named.
  std::optional<IntType> parameter_type(const Function& f, const std::string& name) const {
    std::optional<IntType> out;
    for (const Param& p : f.params) {
      if (p.name != name || !p.type || p.type->kind != ExprKind::identifier) continue;
      if (p.type->text == "u32") out = IntType::u32;
      if (p.type->text == "i32") out = IntType::i32;
    }
    return declared_count_.contains(name) ? std::nullopt : out;
  }

 private:
  // Every declaration a name may resolve to is immutable: the local ones, and a module-scope
  // one of that name, which the name reaches outside the locals' scopes.
  bool name_ok(const std::string& name) const {
    auto local = local_ok_.find(name);
    if (local != local_ok_.end() && !local->second) return false;
    const VarDecl* global = find_global(name);
    if (!global) return local != local_ok_.end();
    if (global->keyword == "const" || global->keyword == "override") return true;
    if (global->keyword != "var" || global->var_template.empty()) return false;
    const std::string& space = global->var_template[0]->text;
    if (space == "uniform") return true;
    return space == "storage" && (global->var_template.size() < 2 || global->var_template[1]->text == "read");
  }

  const VarDecl* find_global(const std::string& name) const {
    for (const VarDecl& g : module_.globals)
      if (g.name == name) return &g;
    return nullptr;
  }

  // X or X.member... where X is a module-scope storage variable no local shadows.
  bool is_storage_reference(const Expr& e) const {
    const Expr* x = &e;
    while (x->kind == ExprKind::member) x = x->operands[0].get();
    if (x->kind != ExprKind::identifier || local_ok_.contains(x->text)) return false;
    const VarDecl* g = find_global(x->text);
    return g && g->keyword == "var" && !g->var_template.empty() && g->var_template[0]->text == "storage";
  }

  // `e` may evaluate to a pointer: it takes an address (other than arrayLength's argument) or
  // names a pointer.
  bool makes_pointer(const Expr& e) const {
    if (e.kind == ExprKind::call && e.text == "arrayLength") return false;
    if (e.kind == ExprKind::unary && e.text == "&") return true;
    if (e.kind == ExprKind::identifier && pointers_.contains(e.text)) return true;
    for (const ExprPtr& o : e.operands)
      if (makes_pointer(*o)) return true;
    return false;
  }

  const Module& module_;
  std::map<std::string, bool> local_ok_;  // every local declaration of the name is immutable
  std::set<std::string> pointers_;
  std::map<std::string, size_t> declared_count_;  // local declarations of each name
  bool shadows_builtin_ = false;
};

namespace {

bool is_call_to(const Expr& e, const char* name) {
  return e.kind == ExprKind::call && e.text == name && e.template_args.empty();
}

}  // namespace

RangeLoopFinder::RangeLoopFinder(const Module& module, const Function& function, const bool* module_shadows)
    : module_(module), function_(function), module_shadows_(module_shadows) {}

bool module_shadows_pure_builtin(const Module& module) { return RangeInvariance::module_shadows_pure_builtin(module); }
RangeLoopFinder::~RangeLoopFinder() = default;

std::optional<RangeLoop> range_loop(const Stmt& loop, const ChargeContext& context) {
  const bool shadows = module_shadows_pure_builtin(context.module);
  return RangeLoopFinder(context.module, context.function, &shadows)(loop, context);
}

std::optional<RangeLoop> RangeLoopFinder::operator()(const Stmt& loop, const ChargeContext& context) const {
  std::optional<CountedFor> shape = counted_for(loop);
  if (!shape) return std::nullopt;
  // Built on the first loop that gets this far: building it reads the whole module, which a
  // function without such loops (most of a long call chain) must not pay for.
  if (!invariance_) invariance_ = std::make_unique<RangeInvariance>(module_, function_, *module_shadows_);
  const RangeInvariance& invariance = *invariance_;
  if (!invariance.usable() || !invariance.invariant(*shape->start) || !invariance.invariant(*shape->bound))
    return std::nullopt;

  // The loop variable's type.
  const VarDecl& var = *shape->var;
  ConstEvaluator& eval = context.constants;
  std::optional<IntType> type;
  if (var.type) {
    if (var.type->kind == ExprKind::identifier && var.type->template_args.empty()) {
      if (var.type->text == "u32") type = IntType::u32;
      if (var.type->text == "i32") type = IntType::i32;
    }
  } else if (Result<IntValue> v = eval.evaluate(*shape->start); v.ok()) {
    type = v->type == IntType::abstract ? IntType::i32 : v->type;
  } else if (is_call_to(*shape->start, "u32")) {
    type = IntType::u32;
  } else if (is_call_to(*shape->start, "i32")) {
    type = IntType::i32;
  } else if (shape->start->kind == ExprKind::identifier) {
    type = invariance.parameter_type(context.function, shape->start->text);
  }
  // Else WGSL gives I the type of a typed constant it is compared with or stepped by.
  for (const Expr* typed : {shape->bound, shape->step}) {
    if (type || !typed || !only_module_consts(*typed, context.module, context.locals)) continue;
    if (Result<IntValue> v = eval.evaluate(*typed); v.ok() && v->type != IntType::abstract) type = v->type;
  }
  if (!type) return std::nullopt;

  RangeLoop out;
  out.type = *type;
  out.start = shape->start;
  out.bound = shape->bound;
  out.up = shape->up;
  out.inclusive = shape->inclusive;
  if (shape->step) {
    if (!only_module_consts(*shape->step, context.module, context.locals)) return std::nullopt;
    std::optional<int64_t> step = constant_in(eval, *shape->step, *type);
    if (!step || *step < 1) return std::nullopt;
    out.step = static_cast<uint32_t>(*step);
  }
  if (out.step > 1) {
    // The step could jump past the end of the type and wrap around, after which the loop may go
    // on for another count: only when a constant bound proves it cannot.
    if (!only_module_consts(*shape->bound, context.module, context.locals)) return std::nullopt;
    std::optional<int64_t> bound = constant_in(eval, *shape->bound, *type);
    if (!bound) return std::nullopt;
    const int64_t slack = out.inclusive ? 0 : 1;  // the last value is bound, or bound -/+ 1
    if (out.up ? *bound - slack + out.step > max_of(*type) : *bound + slack - out.step < min_of(*type))
      return std::nullopt;
  }
  if (!is_plain_leaf_body(*loop.body, var.name, context.functions_with_loops)) return std::nullopt;
  return out;
}

// Iterative, with its own work list: an expression may be as high as the parser allows
// (kMaxExpressionHeight), and recursion that deep, with a string per level, overflowed a
// 256 KiB thread stack (tests/wgsl/small_stack_test.cpp).
std::string print_expr(const Expr& root) {
  // Text to append, or an expression to print (as the operand of [] or `.`, parenthesised
  // unless it is a primary or postfix expression). Printed in the reverse order of pushing.
  struct Item {
    const Expr* expr = nullptr;
    bool as_base = false;
    std::string_view text;
  };
  std::vector<Item> work{{&root, false, {}}};
  auto text = [&](std::string_view t) { work.push_back({nullptr, false, t}); };
  auto expr = [&](const Expr& e, bool as_base = false) { work.push_back({&e, as_base, {}}); };
  // "<a, b>" or "", then "(x, y)" for a call: pushed last part first.
  auto list = [&](const std::vector<ExprPtr>& items, std::string_view open, std::string_view close) {
    text(close);
    for (size_t i = items.size(); i-- > 0;) {
      expr(*items[i]);
      if (i > 0) text(", ");
    }
    text(open);
  };
  std::string out;
  while (!work.empty()) {
    const Item item = work.back();
    work.pop_back();
    if (!item.expr) {
      out += item.text;
      continue;
    }
    const Expr& e = *item.expr;
    const bool operator_expr = e.kind == ExprKind::unary || e.kind == ExprKind::binary;
    if (item.as_base && operator_expr) {
      text(")");
      expr(e);
      text("(");
      continue;
    }
    switch (e.kind) {
      case ExprKind::int_literal:
      case ExprKind::float_literal:
      case ExprKind::bool_literal: out += e.text; break;
      case ExprKind::identifier:
        out += e.text;
        if (!e.template_args.empty()) list(e.template_args, "<", ">");
        break;
      case ExprKind::call:
        out += e.text;
        list(e.operands, "(", ")");
        if (!e.template_args.empty()) list(e.template_args, "<", ">");
        break;
      case ExprKind::index:
        text("]");
        expr(*e.operands[1]);
        text("[");
        expr(*e.operands[0], true);
        break;
      case ExprKind::member:
        text(e.text);
        text(".");
        expr(*e.operands[0], true);
        break;
      case ExprKind::unary:
        out += e.text;
        expr(*e.operands[0], true);
        break;
      case ExprKind::binary:
        out += "(";
        text(")");
        expr(*e.operands[1]);
        text(" (");
        text(e.text);
        text(") ");
        expr(*e.operands[0]);
        break;
    }
  }
  return out;
}

}  // namespace kem::wgsl
