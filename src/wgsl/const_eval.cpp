#include "const_eval.h"

#include <limits>
#include <memory>
#include <optional>
#include <set>

#include "ast_visit.h"

#include "lexer.h"

namespace kem::wgsl {

namespace {

// Bounds the recursion through one initializer (the parser already bounds its height; this is a
// second guard). Chains of named constants do not recurse (prepare).
constexpr int kMaxEvalDepth = 2048;
// Types nest (array<array<u32, 2>, 2>, aliases of aliases) no deeper than template lists may.
constexpr int kMaxTypeDepth = 128;


const char* type_name(IntType t) {
  switch (t) {
    case IntType::abstract: return "abstract-int";
    case IntType::i32: return "i32";
    case IntType::u32: return "u32";
  }
  return "?";
}

bool fits(int64_t v, IntType t) {
  switch (t) {
    case IntType::abstract: return true;
    case IntType::i32:
      return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
    case IntType::u32: return v >= 0 && v <= std::numeric_limits<uint32_t>::max();
  }
  return false;
}

Result<IntValue> checked(int64_t v, IntType t, SourcePos pos) {
  if (!fits(v, t))
    return compile_error_at(pos, "constant " + std::to_string(v) + " does not fit in " + type_name(t));
  return IntValue{v, t};
}

// Converts to `to` as WGSL's value constructors do: an abstract integer must fit; between i32 and
// u32 the bits are reinterpreted.
Result<IntValue> convert(IntValue v, IntType to, SourcePos pos) {
  if (v.type == to || to == IntType::abstract) return v;
  if (v.type == IntType::abstract) return checked(v.value, to, pos);
  if (to == IntType::u32) return IntValue{static_cast<int64_t>(static_cast<uint32_t>(v.value)), to};
  return IntValue{static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v.value))), to};
}

Result<IntValue> parse_int_literal(const Expr& e) {
  std::string_view text = e.text;
  IntType type = IntType::abstract;
  if (text.ends_with('u')) type = IntType::u32;
  if (text.ends_with('i')) type = IntType::i32;
  if (type != IntType::abstract) text.remove_suffix(1);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t v = 0;
  for (char c : text) {
    uint64_t digit = (c >= '0' && c <= '9')   ? static_cast<uint64_t>(c - '0')
                     : (c >= 'a' && c <= 'f') ? static_cast<uint64_t>(c - 'a' + 10)
                                              : static_cast<uint64_t>(c - 'A' + 10);
    if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / base)
      return compile_error_at(e.pos, "integer literal " + e.text + " is too large");
    v = v * base + digit;
  }
  return checked(static_cast<int64_t>(v), type, e.pos);
}

std::optional<IntType> conversion_target(std::string_view name) {
  if (name == "u32") return IntType::u32;
  if (name == "i32") return IntType::i32;
  return std::nullopt;
}


ConstValue int_value(int64_t v, IntType t) {
  ConstValue c;
  c.integer = IntValue{v, t};
  return c;
}
ConstValue bool_value(bool b) {
  ConstValue c;
  c.kind = ConstValue::Kind::boolean;
  c.boolean = b;
  return c;
}
ConstValue composite(std::vector<ConstValue> elements) {
  ConstValue c;
  c.kind = ConstValue::Kind::composite;
  c.elements = std::move(elements);
  return c;
}

const char* kind_name(const ConstValue& v) {
  switch (v.kind) {
    case ConstValue::Kind::integer: return "an integer";
    case ConstValue::Kind::boolean: return "a boolean";
    case ConstValue::Kind::composite: return "a vector or array";
  }
  return "?";
}

Error wrong_kind(SourcePos pos, std::string_view wanted, const ConstValue& v) {
  return compile_error_at(pos, "expected " + std::string(wanted) + ", found " + kind_name(v));
}

// The common type of two integer operands: an abstract integer takes the other's type.
Result<IntType> unify(IntType a, IntType b, SourcePos pos, std::string_view what) {
  if (a == IntType::abstract) return b;
  if (b == IntType::abstract || a == b) return a;
  return compile_error_at(pos, std::string(what) + " mixes " + type_name(a) + " and " + type_name(b));
}

// A type that a constant of this evaluator may have.
struct Type {
  enum class Kind { integer, boolean, vector, array };
  Kind kind = Kind::integer;
  IntType integer = IntType::abstract;  // integer
  size_t count = 0;                     // vector, array; 0: inferred from the constructor
  std::shared_ptr<Type> element;        // vector, array; null: inferred
};

// vec2..vec4 with an optional u/i suffix: the count and, for the suffix, the element type.
std::optional<std::pair<size_t, std::optional<IntType>>> vector_name(std::string_view n) {
  if (n.size() < 4 || !n.starts_with("vec") || n[3] < '2' || n[3] > '4') return std::nullopt;
  size_t count = static_cast<size_t>(n[3] - '0');
  if (n.size() == 4) return std::make_pair(count, std::optional<IntType>{});
  if (n.size() == 5 && n[4] == 'u') return std::make_pair(count, std::optional<IntType>{IntType::u32});
  if (n.size() == 5 && n[4] == 'i') return std::make_pair(count, std::optional<IntType>{IntType::i32});
  return std::nullopt;
}

}  // namespace

ConstEvaluator::ConstEvaluator(const Module& module) {
  for (const VarDecl& d : module.globals)
    if (d.keyword == "const" || d.keyword == "override") declarations_.emplace(d.name, &d);
  for (const Alias& a : module.aliases)
    if (a.type) aliases_.emplace(a.name, a.type.get());
}

const Expr* ConstEvaluator::resolve_alias(const Expr& t) const {
  const Expr* x = &t;
  // An alias chain is at most as long as the module has aliases; a cyclic one is Dawn's to refuse.
  for (size_t hops = 0; hops <= aliases_.size() && x->template_args.empty(); ++hops) {
    auto found = aliases_.find(x->text);
    if (found == aliases_.end()) break;
    x = found->second;
  }
  return x;
}

Result<IntValue> ConstEvaluator::evaluate(const Expr& e) {
  depth_ = 0;
  prepare(e);
  Result<ConstValue> v = eval(e);
  if (!v) return v.take_error();
  if (v->kind != ConstValue::Kind::integer) return wrong_kind(e.pos, "an integer", *v);
  return v->integer;
}

void ConstEvaluator::prepare(const Expr& root) {
  auto refs_of = [&](const Expr* e, std::vector<const Expr*>& out) {
    if (!e) return;
    visit_expr(*e, [&](const Expr& x) {
      if (x.kind == ExprKind::identifier && x.template_args.empty() && declarations_.contains(x.text))
        out.push_back(&x);
    });
  };
  struct Frame {
    const VarDecl* decl;  // null for the root expression
    std::vector<const Expr*> refs;
    size_t next = 0;
  };
  std::vector<Frame> stack(1);
  refs_of(&root, stack[0].refs);
  std::set<std::string, std::less<>> on_stack;
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.refs.size()) {
      if (top.decl) {
        on_stack.erase(top.decl->name);
        cache_.emplace(top.decl->name, eval_declaration(*top.decl));
      }
      stack.pop_back();
      continue;
    }
    const Expr& ref = *top.refs[top.next++];
    if (cache_.contains(ref.text)) continue;
    const VarDecl& d = *declarations_.find(ref.text)->second;
    if (!d.initializer) continue;  // eval_name says where it is used
    if (on_stack.contains(ref.text)) {
      // Every constant from `ref.text` up the stack is defined in terms of itself.
      Error cycle = compile_error_at(ref.pos, "'" + ref.text + "' is defined in terms of itself");
      for (;;) {
        const VarDecl* in_cycle = stack.back().decl;
        on_stack.erase(in_cycle->name);
        cache_.emplace(in_cycle->name, cycle);
        stack.pop_back();
        if (in_cycle->name == ref.text) break;
      }
      continue;
    }
    on_stack.insert(d.name);
    Frame f{&d, {}, 0};
    refs_of(d.type.get(), f.refs);
    refs_of(d.initializer.get(), f.refs);
    stack.push_back(std::move(f));  // `top` is not used past this point
  }
}

namespace {

// The type named by `t` (aliases resolved by `resolve`), for declared types and constructors.
template <typename Resolve, typename EvalCount>
Result<Type> type_of(const Expr& t0, const Resolve& resolve, const EvalCount& eval_count, int depth) {
  if (depth > kMaxTypeDepth) return compile_error_at(t0.pos, "type nests too deeply");
  const Expr& t = *resolve(t0);
  Type out;
  if (std::optional<IntType> i = conversion_target(t.text); i && t.template_args.empty()) {
    out.integer = *i;
    return out;
  }
  if (t.text == "bool" && t.template_args.empty()) {
    out.kind = Type::Kind::boolean;
    return out;
  }
  if (auto v = vector_name(t.text)) {
    out.kind = Type::Kind::vector;
    out.count = v->first;
    if (v->second) {
      if (!t.template_args.empty()) return compile_error_at(t.pos, t.text + " takes no template list");
      out.element = std::make_shared<Type>(Type{Type::Kind::integer, *v->second, 0, nullptr});
    } else if (t.template_args.size() == 1) {
      Result<Type> e = type_of(*t.template_args[0], resolve, eval_count, depth + 1);
      if (!e) return e;
      if (e->kind != Type::Kind::integer && e->kind != Type::Kind::boolean)
        return compile_error_at(t.pos, "a vector's elements must be scalars");
      out.element = std::make_shared<Type>(*e);
    } else if (!t.template_args.empty()) {
      return compile_error_at(t.pos, t.text + " takes one template argument");
    }
    return out;
  }
  if (t.text == "array") {
    out.kind = Type::Kind::array;
    if (t.template_args.empty()) return out;
    Result<Type> e = type_of(*t.template_args[0], resolve, eval_count, depth + 1);
    if (!e) return e;
    out.element = std::make_shared<Type>(*e);
    if (t.template_args.size() != 2)
      return compile_error_at(t.pos, "a constant array needs its element count, array<T, N>");
    Result<IntValue> n = eval_count(*t.template_args[1]);
    if (!n) return n.take_error();
    if (n->value <= 0) return compile_error_at(t.template_args[1]->pos, "an array count must be positive");
    out.count = static_cast<size_t>(n->value);
    return out;
  }
  return compile_error_at(t.pos, "type " + t.text + " is not an integer, boolean, or integer vector or array");
}

// `v` as a value of type `t`. With `convert` (a value constructor such as u32(x)), i32 and u32
// reinterpret each other's bits and booleans become 0 / 1; without it (a declared type), only
// abstract integers change type.
Result<ConstValue> to_type(ConstValue v, const Type& t, SourcePos pos, bool converting) {
  switch (t.kind) {
    case Type::Kind::integer:
      if (converting && v.kind == ConstValue::Kind::boolean)
        return int_value(v.boolean ? 1 : 0, t.integer);
      if (v.kind != ConstValue::Kind::integer) return wrong_kind(pos, "an integer", v);
      if (!converting && v.integer.type != IntType::abstract && v.integer.type != t.integer &&
          t.integer != IntType::abstract)
        return compile_error_at(pos, std::string("a ") + type_name(v.integer.type) +
                                         " initializer for a " + type_name(t.integer));
      {
        Result<IntValue> c = wgsl::convert(v.integer, t.integer, pos);
        if (!c) return c.take_error();
        return int_value(c->value, c->type);
      }
    case Type::Kind::boolean:
      if (converting && v.kind == ConstValue::Kind::integer) return bool_value(v.integer.value != 0);
      if (v.kind != ConstValue::Kind::boolean) return wrong_kind(pos, "a boolean", v);
      return v;
    case Type::Kind::vector:
    case Type::Kind::array: {
      if (v.kind != ConstValue::Kind::composite) return wrong_kind(pos, "a vector or array", v);
      if (t.count != 0 && v.elements.size() != t.count)
        return compile_error_at(pos, "expected " + std::to_string(t.count) + " elements, found " +
                                         std::to_string(v.elements.size()));
      if (!t.element) return v;
      for (ConstValue& e : v.elements) {
        Result<ConstValue> c = to_type(std::move(e), *t.element, pos, converting);
        if (!c) return c;
        e = std::move(*c);
      }
      return v;
    }
  }
  return v;
}

}  // namespace

Result<ConstValue> ConstEvaluator::eval_declaration(const VarDecl& d) {
  const int saved_depth = depth_;
  depth_ = 0;
  struct Restore {
    int& d;
    int saved;
    ~Restore() { d = saved; }
  } restore{depth_, saved_depth};
  Result<ConstValue> v = eval(*d.initializer);
  if (!v || !d.type) return v;
  auto resolve = [this](const Expr& t) { return resolve_alias(t); };
  auto count = [this](const Expr& n) { return evaluate_nested(n); };
  Result<Type> t = type_of(*d.type, resolve, count, 0);
  if (!t) {
    const Expr& named = *resolve_alias(*d.type);
    if (conversion_target(named.text) || named.text == "bool" || vector_name(named.text) ||
        named.text == "array")
      return t.take_error();
    return compile_error_at(d.type->pos, "'" + d.name + "' has type " + d.type->text +
                                             ", an integer (i32 or u32) is needed here");
  }
  return to_type(std::move(*v), *t, d.initializer->pos, /*convert=*/false);
}

Result<IntValue> ConstEvaluator::evaluate_nested(const Expr& e) {
  prepare(e);
  Result<ConstValue> v = eval(e);
  if (!v) return v.take_error();
  if (v->kind != ConstValue::Kind::integer) return wrong_kind(e.pos, "an integer", *v);
  return v->integer;
}

Result<ConstValue> ConstEvaluator::eval(const Expr& e) {
  if (++depth_ > kMaxEvalDepth) return compile_error_at(e.pos, "constant expression nests too deeply");
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{depth_};
  switch (e.kind) {
    case ExprKind::int_literal: {
      Result<IntValue> v = parse_int_literal(e);
      if (!v) return v.take_error();
      return int_value(v->value, v->type);
    }
    case ExprKind::float_literal:
      return compile_error_at(e.pos, "expected an integer, found the floating-point literal " + e.text);
    case ExprKind::bool_literal: return bool_value(e.text == "true");
    case ExprKind::identifier: return eval_name(e);
    case ExprKind::call: return eval_call(e);
    case ExprKind::unary: return eval_unary(e);
    case ExprKind::binary: return eval_binary(e);
    case ExprKind::index:
    case ExprKind::member: return eval_access(e);
  }
  return compile_error_at(e.pos, "not a constant expression");
}

Result<ConstValue> ConstEvaluator::eval_name(const Expr& e) {
  if (!e.template_args.empty())
    return compile_error_at(e.pos, "expected an integer constant, found a type");
  auto found = declarations_.find(e.text);
  if (found == declarations_.end())
    return compile_error_at(e.pos, "'" + e.text + "' is not a module-scope const or override");
  if (auto set = cache_.find(e.text); set != cache_.end()) return set->second;  // set_override
  if (!found->second->initializer)
    return compile_error_at(e.pos, "override '" + e.text +
                               "' has no default value, so the size is not known before the "
                               "pipeline is created; give it a default (override " +
                               e.text + ": u32 = 64;)");
  if (!cache_.contains(e.text)) prepare(e);
  return cache_.find(e.text)->second;
}

Result<ConstValue> ConstEvaluator::eval_call(const Expr& e) {
  std::vector<ConstValue> args;
  args.reserve(e.operands.size());
  for (const ExprPtr& a : e.operands) {
    Result<ConstValue> v = eval(*a);
    if (!v) return v;
    args.push_back(std::move(*v));
  }
  if (e.template_args.empty() && !aliases_.contains(e.text) &&
      (e.text == "abs" || e.text == "min" || e.text == "max" || e.text == "clamp" ||
       e.text == "select"))
    return eval_builtin(e, std::move(args));
  return eval_construct(e, std::move(args));
}

Result<ConstValue> ConstEvaluator::eval_builtin(const Expr& e, std::vector<ConstValue> args) {
  const size_t arity = e.text == "abs" ? 1 : (e.text == "min" || e.text == "max") ? 2 : 3;
  if (args.size() != arity)
    return compile_error_at(e.pos, e.text + "(...) takes " + std::to_string(arity) + " arguments");
  if (e.text == "select") {
    // select(f, t, cond): t when cond holds.
    if (args[2].kind != ConstValue::Kind::boolean)
      return wrong_kind(e.operands[2]->pos, "a boolean condition", args[2]);
    return args[2].boolean ? std::move(args[1]) : std::move(args[0]);
  }
  IntType type = IntType::abstract;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind != ConstValue::Kind::integer)
      return wrong_kind(e.operands[i]->pos, "an integer argument", args[i]);
    Result<IntType> t = unify(type, args[i].integer.type, e.pos, e.text + "(...)");
    if (!t) return t.take_error();
    type = *t;
  }
  auto arg = [&](size_t i) { return args[i].integer.value; };
  int64_t out = 0;
  if (e.text == "abs") {
    // abs of the most negative i32 is itself (WGSL: "the largest negative value").
    if (arg(0) == std::numeric_limits<int64_t>::min())
      return compile_error_at(e.pos, "integer overflow in abs(...)");
    const bool most_negative_i32 = type == IntType::i32 && arg(0) == std::numeric_limits<int32_t>::min();
    out = arg(0) < 0 && !most_negative_i32 ? -arg(0) : arg(0);
  } else if (e.text == "min") {
    out = std::min(arg(0), arg(1));
  } else if (e.text == "max") {
    out = std::max(arg(0), arg(1));
  } else {
    // clamp(e, low, high) is min(max(e, low), high); WGSL requires low <= high in a constant.
    if (arg(1) > arg(2)) return compile_error_at(e.pos, "clamp(...) with low greater than high");
    out = std::min(std::max(arg(0), arg(1)), arg(2));
  }
  Result<IntValue> v = checked(out, type, e.pos);
  if (!v) return v.take_error();
  return int_value(v->value, v->type);
}

Result<ConstValue> ConstEvaluator::eval_construct(const Expr& e, std::vector<ConstValue> args) {
  auto resolve = [this](const Expr& t) { return resolve_alias(t); };
  auto count = [this](const Expr& n) { return evaluate_nested(n); };
  const Expr& callee = *resolve_alias(e);
  const bool known = conversion_target(callee.text) || callee.text == "bool" ||
                     vector_name(callee.text) || callee.text == "array";
  if (!known)
    return compile_error_at(e.pos, "only value constructors (u32, i32, bool, vectors, arrays) and "
                                   "abs, min, max, clamp, select may be called in an integer "
                                   "constant, found " + e.text + "(...)");
  Result<Type> t = type_of(e, resolve, count, 0);
  if (!t) return t.take_error();
  switch (t->kind) {
    case Type::Kind::integer:
    case Type::Kind::boolean:
      if (args.size() != 1)
        return compile_error_at(e.pos, e.text + "(...) takes exactly one argument here");
      return to_type(std::move(args[0]), *t, e.pos, /*convert=*/true);
    case Type::Kind::vector: {
      // Components: scalars as they are, vectors spread; one scalar is splatted.
      std::vector<ConstValue> parts;
      for (ConstValue& a : args) {
        if (a.kind == ConstValue::Kind::composite)
          for (ConstValue& c : a.elements) parts.push_back(std::move(c));
        else
          parts.push_back(std::move(a));
      }
      if (parts.size() == 1) parts.assign(t->count, parts[0]);
      if (parts.empty()) parts.assign(t->count, t->element && t->element->kind == Type::Kind::boolean
                                                    ? bool_value(false)
                                                    : int_value(0, t->element ? t->element->integer
                                                                              : IntType::abstract));
      ConstValue v = composite(std::move(parts));
      if (t->element) return to_type(std::move(v), *t, e.pos, /*convert=*/true);
      if (v.elements.size() != t->count)
        return compile_error_at(e.pos, "expected " + std::to_string(t->count) + " components");
      return v;
    }
    case Type::Kind::array: {
      ConstValue v = composite(std::move(args));
      if (t->element) return to_type(std::move(v), *t, e.pos, /*convert=*/false);
      if (v.elements.empty()) return compile_error_at(e.pos, "array() needs elements or a type");
      return v;
    }
  }
  return compile_error_at(e.pos, "not a constant expression");
}

Result<ConstValue> ConstEvaluator::eval_access(const Expr& e) {
  Result<ConstValue> base = eval(*e.operands[0]);
  if (!base) return base;
  if (base->kind != ConstValue::Kind::composite)
    return wrong_kind(e.operands[0]->pos, "a vector or array", *base);
  if (e.kind == ExprKind::index) {
    Result<ConstValue> i = eval(*e.operands[1]);
    if (!i) return i;
    if (i->kind != ConstValue::Kind::integer) return wrong_kind(e.operands[1]->pos, "an integer index", *i);
    if (i->integer.value < 0 || static_cast<uint64_t>(i->integer.value) >= base->elements.size())
      return compile_error_at(e.operands[1]->pos, "index " + std::to_string(i->integer.value) +
                                                      " is out of bounds (" +
                                                      std::to_string(base->elements.size()) +
                                                      " elements)");
    return std::move(base->elements[static_cast<size_t>(i->integer.value)]);
  }
  // A swizzle: one to four of x y z w, or of r g b a.
  std::vector<ConstValue> picked;
  const bool rgba = e.text.find_first_of("rgba") != std::string::npos;
  constexpr std::string_view kXyzw = "xyzw";
  constexpr std::string_view kRgba = "rgba";
  for (char c : e.text) {
    size_t k = (rgba ? kRgba : kXyzw).find(c);
    if (k == std::string_view::npos || k >= base->elements.size() || e.text.size() > 4)
      return compile_error_at(e.pos, "'" + e.text + "' is not a member of this constant");
    picked.push_back(base->elements[k]);
  }
  if (picked.size() == 1) return std::move(picked[0]);
  return composite(std::move(picked));
}

Result<ConstValue> ConstEvaluator::eval_unary(const Expr& e) {
  Result<ConstValue> r = eval(*e.operands[0]);
  if (!r) return r;
  if (e.text == "!") {
    if (r->kind != ConstValue::Kind::boolean) return wrong_kind(e.pos, "a boolean for '!'", *r);
    return bool_value(!r->boolean);
  }
  if (r->kind != ConstValue::Kind::integer)
    return compile_error_at(e.pos, "operator '" + e.text + "' needs an integer here, found " + kind_name(*r));
  IntValue v = r->integer;
  if (e.text == "-") {
    if (v.type == IntType::u32)
      return compile_error_at(e.pos, "unary '-' cannot be applied to a u32 constant");
    if (v.value == std::numeric_limits<int64_t>::min())
      return compile_error_at(e.pos, "integer overflow in constant expression");
    Result<IntValue> n = checked(-v.value, v.type, e.pos);
    if (!n) return n.take_error();
    return int_value(n->value, n->type);
  }
  if (e.text == "~") {
    if (v.type == IntType::u32) return int_value(static_cast<uint32_t>(~v.value), v.type);
    return int_value(~v.value, v.type);
  }
  return compile_error_at(e.pos, "operator '" + e.text + "' is not allowed in an integer constant");
}

Result<ConstValue> ConstEvaluator::eval_binary(const Expr& e) {
  Result<ConstValue> lv = eval(*e.operands[0]);
  if (!lv) return lv;
  Result<ConstValue> rv = eval(*e.operands[1]);
  if (!rv) return rv;
  const std::string& op = e.text;
  if (lv->kind == ConstValue::Kind::boolean && rv->kind == ConstValue::Kind::boolean) {
    const bool a = lv->boolean;
    const bool b = rv->boolean;
    if (op == "&&" || op == "&") return bool_value(a && b);
    if (op == "||" || op == "|") return bool_value(a || b);
    if (op == "^" || op == "!=") return bool_value(a != b);
    if (op == "==") return bool_value(a == b);
    return compile_error_at(e.pos, "operator '" + op + "' does not apply to booleans");
  }
  if (lv->kind != ConstValue::Kind::integer || rv->kind != ConstValue::Kind::integer)
    return compile_error_at(e.pos, "operator '" + op + "' needs integers (or two booleans) in a "
                                   "constant, found " + kind_name(*lv) + " and " + kind_name(*rv));
  const IntValue l = lv->integer;
  const IntValue r = rv->integer;
  const bool is_shift = op == "<<" || op == ">>";
  IntType type = l.type;
  if (!is_shift) {
    Result<IntType> t = unify(l.type, r.type, e.pos, "operator '" + op + "'");
    if (!t) return t.take_error();
    type = *t;
  }
  const int64_t a = l.value;
  const int64_t b = r.value;
  if (op == "==") return bool_value(a == b);
  if (op == "!=") return bool_value(a != b);
  if (op == "<") return bool_value(a < b);
  if (op == "<=") return bool_value(a <= b);
  if (op == ">") return bool_value(a > b);
  if (op == ">=") return bool_value(a >= b);
  int64_t out = 0;
  if (op == "+") {
    if (__builtin_add_overflow(a, b, &out)) return compile_error_at(e.pos, "integer overflow");
  } else if (op == "-") {
    if (__builtin_sub_overflow(a, b, &out)) return compile_error_at(e.pos, "integer overflow");
  } else if (op == "*") {
    if (__builtin_mul_overflow(a, b, &out)) return compile_error_at(e.pos, "integer overflow");
  } else if (op == "/" || op == "%") {
    if (b == 0) return compile_error_at(e.pos, "division by zero in constant expression");
    if (a == std::numeric_limits<int64_t>::min() && b == -1)
      return compile_error_at(e.pos, "integer overflow");
    out = op == "/" ? a / b : a % b;
  } else if (is_shift) {
    const int64_t width = type == IntType::abstract ? 64 : 32;
    if (b < 0 || b >= width)
      return compile_error_at(e.pos, "shift amount " + std::to_string(b) + " is out of range");
    if (op == ">>") {
      out = a >> b;
    } else {
      if (a < 0 || (b > 0 && a > (std::numeric_limits<int64_t>::max() >> b)))
        return compile_error_at(e.pos, "integer overflow in '<<'");
      out = a << b;
    }
  } else if (op == "&") {
    out = a & b;
  } else if (op == "|") {
    out = a | b;
  } else if (op == "^") {
    out = a ^ b;
  } else {
    return compile_error_at(e.pos, "operator '" + op + "' does not give an integer constant");
  }
  Result<IntValue> v = checked(out, type, e.pos);
  if (!v) return v.take_error();
  return int_value(v->value, v->type);
}

}  // namespace kem::wgsl
