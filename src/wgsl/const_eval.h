// Evaluates integer const-expressions of a parsed module, as WGSL attributes use them:
// `@workgroup_size(TILE * 2, 4u)`, `@group(0)`. Names resolve to module-scope `const`s and to
// `override`s through their default (the value the pipeline gets when the executor sets no
// constant). The result is an integer; on the way it may pass through the other values the WGSL
// spec lets such an expression use (issue 19):
//  - integers and booleans: literals, + - * / % << >> & | ^, unary - ~ !, comparisons, && ||;
//  - the conversions u32(...) / i32(...), also through `alias U = u32;`;
//  - the const builtins abs, min, max, clamp and select on integer scalars;
//  - vectors and arrays: vecN<T>(...), vecNu/vecNi(...), vecN(...), array<T, N>(...), array(...),
//    their members (v.x, v.yz) and elements (v[1], a[2]).
// Named constants are each evaluated once, in dependency order by an explicit stack, so a chain of
// any length takes no stack depth (the depth of one initializer is bounded by the parser).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ast.h"
#include "kem/result.h"

namespace kem::wgsl {

enum class IntType { abstract, i32, u32 };

struct IntValue {
  int64_t value = 0;
  IntType type = IntType::abstract;
};

// A value during evaluation: an integer, a boolean, or a vector / array of values.
struct ConstValue {
  enum class Kind { integer, boolean, composite };
  Kind kind = Kind::integer;
  IntValue integer;                 // kind == integer
  bool boolean = false;             // kind == boolean
  std::vector<ConstValue> elements; // kind == composite
};

class ConstEvaluator {
 public:
  explicit ConstEvaluator(const Module& module);

  // Gives override `name` the value a request set for it (an integer or a boolean), used instead of
  // its default: a workgroup size written with an override follows the request's value.
  void set_override(std::string_view name, ConstValue value) { cache_.insert_or_assign(std::string(name), value); }

  // The value of `e`, or compile_error "LINE:COLUMN: ..." naming what is not a constant integer.
  Result<IntValue> evaluate(const Expr& e);

 private:
  Result<ConstValue> eval(const Expr& e);
  Result<ConstValue> eval_name(const Expr& e);
  Result<ConstValue> eval_call(const Expr& e);
  Result<ConstValue> eval_builtin(const Expr& e, std::vector<ConstValue> args);
  Result<ConstValue> eval_construct(const Expr& e, std::vector<ConstValue> args);
  Result<ConstValue> eval_unary(const Expr& e);
  Result<ConstValue> eval_binary(const Expr& e);
  Result<ConstValue> eval_access(const Expr& e);
  // Evaluates, in dependency order and without recursion through names, every named constant
  // that `e` refers to, directly or not, that is not cached yet.
  void prepare(const Expr& e);
  Result<ConstValue> eval_declaration(const VarDecl& d);
  // evaluate() from inside an evaluation (an array count), keeping the depth count.
  Result<IntValue> evaluate_nested(const Expr& e);
  // The type expression `t` with aliases replaced by what they name (one level: the name).
  const Expr* resolve_alias(const Expr& t) const;

  std::map<std::string, const VarDecl*, std::less<>> declarations_;  // const and override
  std::map<std::string, const Expr*, std::less<>> aliases_;
  std::map<std::string, Result<ConstValue>, std::less<>> cache_;  // errors too: each name once
  int depth_ = 0;
};

}  // namespace kem::wgsl
