#include "const_eval.h"

#include <limits>
#include <optional>

#include "lexer.h"

namespace kem::wgsl {

namespace {

// Bounds the recursion through nested expressions and chains of named constants together.
constexpr int kMaxEvalDepth = 2048;


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

}  // namespace

ConstEvaluator::ConstEvaluator(const Module& module) {
  for (const VarDecl& d : module.globals)
    if (d.keyword == "const" || d.keyword == "override") declarations_.emplace(d.name, &d);
}

Result<IntValue> ConstEvaluator::evaluate(const Expr& e) {
  depth_ = 0;
  return eval(e);
}

Result<IntValue> ConstEvaluator::eval(const Expr& e) {
  if (++depth_ > kMaxEvalDepth) return compile_error_at(e.pos, "constant expression nests too deeply");
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{depth_};
  switch (e.kind) {
    case ExprKind::int_literal: return parse_int_literal(e);
    case ExprKind::float_literal:
      return compile_error_at(e.pos, "expected an integer, found the floating-point literal " + e.text);
    case ExprKind::bool_literal:
      return compile_error_at(e.pos, "expected an integer, found the boolean " + e.text);
    case ExprKind::identifier: return eval_name(e);
    case ExprKind::call: return eval_call(e);
    case ExprKind::unary: {
      Result<IntValue> v = eval(*e.operands[0]);
      if (!v) return v;
      if (e.text == "-") {
        if (v->type == IntType::u32)
          return compile_error_at(e.pos, "unary '-' cannot be applied to a u32 constant");
        if (v->value == std::numeric_limits<int64_t>::min())
          return compile_error_at(e.pos, "integer overflow in constant expression");
        return checked(-v->value, v->type, e.pos);
      }
      if (e.text == "~") {
        if (v->type == IntType::u32) return IntValue{static_cast<uint32_t>(~v->value), v->type};
        return IntValue{~v->value, v->type};
      }
      return compile_error_at(e.pos, "operator '" + e.text + "' is not allowed in an integer constant");
    }
    case ExprKind::binary: return eval_binary(e);
    case ExprKind::index:
    case ExprKind::member:
      return compile_error_at(e.pos, "indexing and member access are not supported in this constant");
  }
  return compile_error_at(e.pos, "not a constant expression");
}

Result<IntValue> ConstEvaluator::eval_name(const Expr& e) {
  if (!e.template_args.empty())
    return compile_error_at(e.pos, "expected an integer constant, found a type");
  if (auto hit = cache_.find(e.text); hit != cache_.end()) return hit->second;
  auto found = declarations_.find(e.text);
  if (found == declarations_.end())
    return compile_error_at(e.pos, "'" + e.text + "' is not a module-scope const or override");
  const VarDecl& d = *found->second;
  if (!d.initializer)
    return compile_error_at(e.pos, "override '" + e.text +
                               "' has no default value, so the size is not known before the "
                               "pipeline is created; give it a default (override " +
                               e.text + ": u32 = 64;)");
  if (in_progress_.contains(e.text))
    return compile_error_at(e.pos, "'" + e.text + "' is defined in terms of itself");
  in_progress_.insert(e.text);
  Result<IntValue> v = eval(*d.initializer);
  in_progress_.erase(e.text);
  if (!v) return v;
  if (d.type) {
    std::optional<IntType> declared = conversion_target(d.type->text);
    if (!declared)
      return compile_error_at(d.type->pos, "'" + e.text + "' has type " + d.type->text +
                                       ", an integer (i32 or u32) is needed here");
    // A declared type converts only abstract integers; mixing i32 and u32 is a type error.
    if (v->type != IntType::abstract && v->type != *declared)
      return compile_error_at(d.initializer->pos, std::string("a ") + type_name(v->type) +
                                              " initializer for a " + type_name(*declared));
    v = convert(*v, *declared, d.initializer->pos);
    if (!v) return v;
  }
  cache_.emplace(e.text, *v);
  return v;
}

Result<IntValue> ConstEvaluator::eval_call(const Expr& e) {
  std::optional<IntType> target = conversion_target(e.text);
  if (!target || !e.template_args.empty())
    return compile_error_at(e.pos, "only u32(...) and i32(...) may be called in an integer constant, "
                           "found " + e.text + "(...)");
  if (e.operands.size() != 1)
    return compile_error_at(e.pos, e.text + "(...) takes exactly one argument here");
  Result<IntValue> v = eval(*e.operands[0]);
  if (!v) return v;
  return convert(*v, *target, e.pos);
}

Result<IntValue> ConstEvaluator::eval_binary(const Expr& e) {
  Result<IntValue> l = eval(*e.operands[0]);
  if (!l) return l;
  Result<IntValue> r = eval(*e.operands[1]);
  if (!r) return r;
  const std::string& op = e.text;
  const bool is_shift = op == "<<" || op == ">>";
  IntType type = l->type;
  if (!is_shift) {
    // Abstract integers take the concrete type of the other side.
    if (l->type == IntType::abstract) type = r->type;
    else if (r->type != IntType::abstract && r->type != l->type)
      return compile_error_at(e.pos, std::string("operator '") + op + "' mixes " + type_name(l->type) +
                                 " and " + type_name(r->type));
  }
  const int64_t a = l->value;
  const int64_t b = r->value;
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
  return checked(out, type, e.pos);
}

}  // namespace kem::wgsl
