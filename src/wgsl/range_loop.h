// For loops whose trip count is fixed once they start, though known only at run time:
// `for (var k = 0u; k < input[0]; k++)`. Loop metering charges such a loop its whole trip count
// when it starts, or skips it when the count does not fit the budget (src/wgsl/metering.h);
// its body stays as written.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ast.h"
#include "const_eval.h"
#include "counted_loop.h"

namespace kem::wgsl {

struct RangeLoop {
  IntType type = IntType::u32;  // of the loop variable: u32 or i32
  const Expr* start = nullptr;  // START and BOUND, side-effect free and loop-invariant
  const Expr* bound = nullptr;
  uint32_t step = 1;
  bool up = true;               // < or <=, else > or >=
  bool inclusive = false;       // <= or >=
};

// `loop` as a RangeLoop, if it is one. Exactly the loops of this shape qualify:
//   for (var I[: u32|i32] = START; I CMP BOUND; UPDATE) BODY
// - CMP and UPDATE as for charged_trip_count, with a constant STEP >= 1;
// - START and BOUND are loop-invariant and side-effect free: literals, consts, overrides, `let`s
//   and parameters that are not pointers, module-scope `var<uniform>` and `var<storage, read>`,
//   with indexing, member access, unary - ! ~, binary operators, `arrayLength(&X)` and a few
//   pure builtins (min, max, clamp, abs, select, u32, i32, bitcast). No user function, no `*` or
//   other `&`, no read_write storage, workgroup, private or function `var` (the body might write
//   it), no name that the module redeclares over a builtin these rely on;
// - STEP > 1 only with a constant BOUND past which I cannot step without wrapping around; with
//   STEP = 1 the only wrap is `I <= max` (or `I >= min`), which never ends, and the run-time
//   check refuses it (exceeded), exactly as per-iteration metering would end;
// - I's type is declared, or that of a constant START, a u32(...) / i32(...) START, or a
//   parameter START of declared type;
// - BODY as for charged_trip_count (is_plain_leaf_body). Loops that reach a barrier are the
//   caller's to exclude: the run-time guard is not workgroup-uniform.
std::optional<RangeLoop> range_loop(const Stmt& loop, const ChargeContext& context);

class RangeInvariance;  // range_loop.cpp

// Whether a module-scope declaration shadows a builtin that range loops rely on (then a module
// gets none).
bool module_shadows_pure_builtin(const Module& module);

// range_loop for the loops of one function, whose invariance analysis (which names are
// immutable, which are pointers) is built once and shared by all of them: built per loop, it
// made a function of 10,000 loops take over a minute (issue 19).
class RangeLoopFinder {
 public:
  // `module_shadows` is module_shadows_pure_builtin(module), computed once for all functions;
  // it must outlive the finder.
  RangeLoopFinder(const Module& module, const Function& function, const bool* module_shadows);
  ~RangeLoopFinder();
  RangeLoopFinder(const RangeLoopFinder&) = delete;
  RangeLoopFinder& operator=(const RangeLoopFinder&) = delete;
  std::optional<RangeLoop> operator()(const Stmt& loop, const ChargeContext& context) const;

 private:
  const Module& module_;
  const Function& function_;
  const bool* module_shadows_;
  mutable std::unique_ptr<RangeInvariance> invariance_;  // built by the first call that needs it
};

// WGSL text for an expression accepted as START or BOUND, fully parenthesised (the syntax tree
// does not keep parentheses, so the user's text cannot simply be copied).
std::string print_expr(const Expr& e);

}  // namespace kem::wgsl
