// Loops whose number of iterations is known before they start. Loop metering charges such a
// loop its whole trip count once, before the loop, instead of checking the budget on every
// iteration: the same count, none of the per-iteration cost (see src/wgsl/metering.h).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "ast.h"
#include "const_eval.h"

namespace kem::wgsl {

// Trip counts above this are metered per iteration: a charged loop still runs to its end after
// the budget is exhausted, so this bounds the work an invocation can do past its budget.
inline constexpr uint32_t kMaxChargedTrips = 1u << 16;

// The exact number of times `loop`'s body is entered whenever the loop statement runs, if it
// is provably fixed, or nullopt. Exactly the loops of this shape qualify:
//   for (var I[: u32|i32] = C0; I CMP C1; UPDATE) BODY
// - CMP is < or <= with UPDATE I++ or I += C2, or > or >= with I-- or I -= C2, C2 >= 1;
// - C0, C1, C2 are integer constant expressions of literals and module-scope `const`s (not
//   `override`s, which a pipeline may change) whose names the function does not redeclare;
// - no value of I wraps around before the condition fails (`i <= 0xFFFFFFFFu` never ends);
// - the trip count is at most kMaxChargedTrips;
// - BODY never leaves early and never changes I: no break, return or discard anywhere in it, no
//   assignment, ++ or -- whose target is rooted at I, no `&I`, no declaration named I;
// - BODY is a leaf: it contains no loop statement and calls no function of
//   `functions_with_loops`, so charged loops never nest and the per-iteration checks of every
//   other loop stay where they were.
struct ChargeContext {
  const Module& module;
  ConstEvaluator& constants;                     // of `module`
  const Function& function;                      // the loop's
  const std::set<std::string>& locals;           // declared_names(function)
  const std::set<std::string>& functions_with_loops;
};
std::optional<uint32_t> charged_trip_count(const Stmt& loop, const ChargeContext& context);

// The parts of `for (var I[: T] = START; I CMP BOUND; UPDATE) BODY` when UPDATE steps I towards
// BOUND (I++ / I += STEP with < or <=, I-- / I -= STEP with > or >=). Says nothing about values.
struct CountedFor {
  const VarDecl* var = nullptr;
  const Expr* start = nullptr;
  const Expr* bound = nullptr;
  const Expr* step = nullptr;  // null for ++ / --
  bool up = true;              // < or <=
  bool inclusive = false;      // <= or >=
};
std::optional<CountedFor> counted_for(const Stmt& loop);

// BODY enters every iteration to its end (or a `continue`), never changes or takes the address
// of `var_name`, contains no loop and calls no function of `functions_with_loops`.
bool is_plain_leaf_body(const Stmt& body, const std::string& var_name,
                        const std::set<std::string>& functions_with_loops);

// The value of constant `e` in `type` (u32 or i32), if it has that type or is abstract and fits.
std::optional<int64_t> constant_in(ConstEvaluator& eval, const Expr& e, IntType type);

// True if every name in `e` is a module-scope `const` that no name of `locals` shadows (not an
// `override`, which the pipeline may set to another value than its default).
bool only_module_consts(const Expr& e, const Module& module, const std::set<std::string>& locals);

// The smallest and largest value of an i32 or u32.
int64_t min_of(IntType type);
int64_t max_of(IntType type);

// Every name a function declares: its parameters and every let / var / const of its body.
std::set<std::string> declared_names(const Function& function);

}  // namespace kem::wgsl
