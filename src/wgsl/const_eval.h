// Evaluates integer const-expressions of a parsed module, as WGSL attributes use them:
// `@workgroup_size(TILE * 2, 4u)`, `@group(0)`. Names resolve to module-scope `const`s and to
// `override`s through their default (the value the pipeline gets when the executor sets no
// constant). Only integers: literals, + - * / % << >> & | ^, unary - and ~, parentheses, and the
// conversions u32(...) / i32(...).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "ast.h"
#include "kem/result.h"

namespace kem::wgsl {

enum class IntType { abstract, i32, u32 };

struct IntValue {
  int64_t value = 0;
  IntType type = IntType::abstract;
};

class ConstEvaluator {
 public:
  explicit ConstEvaluator(const Module& module);

  // The value of `e`, or compile_error "LINE:COLUMN: ..." naming what is not a constant integer.
  Result<IntValue> evaluate(const Expr& e);

 private:
  Result<IntValue> eval(const Expr& e);
  Result<IntValue> eval_name(const Expr& e);
  Result<IntValue> eval_call(const Expr& e);
  Result<IntValue> eval_binary(const Expr& e);

  std::map<std::string, const VarDecl*, std::less<>> declarations_;  // const and override
  std::map<std::string, IntValue, std::less<>> cache_;
  std::set<std::string, std::less<>> in_progress_;  // catches cyclic definitions
  int depth_ = 0;
};

}  // namespace kem::wgsl
