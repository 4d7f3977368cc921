// How a metered loop is left when the budget runs out, so that metering never breaks a valid
// kernel (issue 19). The budget check is `if TICK() { EXIT }`, and EXIT is usually `break`. But a
// `loop` (or a `for` without a condition) that has no `break` of its own never falls through: a
// function `fn f() -> T { loop { ... return x; } }` is valid WGSL only because of that, and a
// `break` would add a path to the end of the function ("missing return at end of function").
// For such loops in a function with a return type, EXIT is `return T();` (every return type is
// constructible, so its zero value exists); the call's outputs are discarded anyway once the
// budget is exceeded. Loops inside a `continuing` block, where `return` is not allowed, keep
// `break` (they cannot return, so they fall through to the end of the continuing block anyway).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ast.h"

namespace kem::wgsl {

// The exit statement for each loop of `module` that must not be left by `break`, keyed by the
// loop statement; loops not in the map use `break`. `source` is the module's text (the return
// type is copied as written).
std::map<const Stmt*, std::string> budget_exits(const Module& module, std::string_view source);

// The function that holds each loop statement of `module`.
std::map<const Stmt*, const Function*> loop_functions(const Module& module);

}  // namespace kem::wgsl
