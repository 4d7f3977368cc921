#include "loop_analysis.h"

#include <map>
#include <set>
#include <string>

#include "ast_visit.h"
#include "counted_loop.h"
#include "range_loop.h"

namespace kem::wgsl {

bool requires_uniform_control_flow(std::string_view name) {
  // Compute-stage builtins only. Derivatives (dpdx, textureSample, ...) also need uniform
  // control flow, but only exist in fragment shaders, where a workgroup-uniform exit is not
  // available; their loops get the per-invocation exit (see metering.h).
  static const std::set<std::string_view> kExact = {"workgroupBarrier", "storageBarrier",
                                                    "textureBarrier", "workgroupUniformLoad"};
  return kExact.contains(name) || name.starts_with("subgroup") || name.starts_with("quad");
}

namespace {

// Names of everything called in `s` (user functions and builtins alike).
std::set<std::string> calls_in(const Stmt& s) {
  std::set<std::string> out;
  visit_stmt(
      s, [](const Stmt&) {},
      [&](const Expr& e) {
        if (e.kind == ExprKind::call) out.insert(e.text);
      });
  return out;
}

// Every function that is in `seeds` or calls one, directly or through other functions: a
// search backwards over the call graph, linear in its edges (issue 19: the fixpoint this
// replaces took quadratic time on a chain of 20,000 calls). WGSL forbids recursion, but the
// input is untrusted: a cycle is visited once like anything else.
std::set<std::string> callers_closure(const std::map<std::string, std::set<std::string>>& calls,
                                      std::set<std::string> seeds) {
  std::map<std::string_view, std::vector<std::string_view>> callers;
  for (const auto& [name, callees] : calls)
    for (const std::string& c : callees) callers[c].push_back(name);
  std::vector<std::string_view> work(seeds.begin(), seeds.end());
  while (!work.empty()) {
    std::string_view f = work.back();
    work.pop_back();
    auto found = callers.find(f);
    if (found == callers.end()) continue;
    for (std::string_view caller : found->second)
      if (seeds.insert(std::string(caller)).second) work.push_back(caller);
  }
  return seeds;
}

// `seeds` and every function they call, directly or not; linear in the call graph's edges.
std::set<std::string> callees_closure(const std::map<std::string, std::set<std::string>>& calls,
                                      std::set<std::string> seeds) {
  std::vector<std::string> work(seeds.begin(), seeds.end());
  while (!work.empty()) {
    auto found = calls.find(work.back());
    work.pop_back();
    if (found == calls.end()) continue;
    for (const std::string& callee : found->second)
      if (calls.contains(callee) && seeds.insert(callee).second) work.push_back(callee);
  }
  return seeds;
}

// The loops nested in an `if` or `switch` of `s`, or all of them when `under` is set. The
// recursion follows the statement nesting, which the parser bounds (kMaxNesting) like visit_stmt.
void branch_loops(const Stmt& s, bool under, std::set<const Stmt*>& out) {
  const bool loop = s.kind == StmtKind::loop || s.kind == StmtKind::for_ || s.kind == StmtKind::while_;
  if (loop && under) out.insert(&s);
  const bool branch = under || s.kind == StmtKind::if_ || s.kind == StmtKind::switch_;
  auto child = [&](const StmtPtr& c, bool nested_under) {
    if (c) branch_loops(*c, nested_under, out);
  };
  child(s.init, under);  // a for's init and update are not inside its body's branches
  child(s.update, under);
  for (const auto& c : s.statements) child(c, under);
  child(s.body, branch);
  child(s.else_branch, branch);
  child(s.continuing, under);
  for (const SwitchClause& c : s.clauses) child(c.body, branch);
}

}  // namespace

std::vector<LoopSite> find_loops(const Module& module) {
  // A function needs uniform control flow if it calls such a builtin or such a function.
  std::map<std::string, std::set<std::string>> calls;
  for (const Function& f : module.functions)
    if (f.body) calls[f.name] = calls_in(*f.body);
  std::set<std::string> direct_uniform;
  for (const auto& [name, callees] : calls)
    for (const std::string& c : callees)
      if (requires_uniform_control_flow(c)) direct_uniform.insert(name);
  const std::set<std::string> uniform_functions = callers_closure(calls, std::move(direct_uniform));
  const std::set<std::string> near_uniform_functions = callees_closure(calls, uniform_functions);
  auto needs_uniform = [&](const Stmt& loop) {
    for (const std::string& c : calls_in(loop))
      if (requires_uniform_control_flow(c) || uniform_functions.contains(c)) return true;
    return false;
  };

  auto is_loop = [](const Stmt& s) {
    return s.kind == StmtKind::loop || s.kind == StmtKind::for_ || s.kind == StmtKind::while_;
  };
  // Functions that contain a loop, directly or through what they call: a loop that calls one is
  // not a leaf, so it is never charged (counted_loop.h).
  std::set<std::string> direct_loops;
  for (const Function& f : module.functions) {
    if (!f.body) continue;
    bool found = false;
    visit_stmt(*f.body, [&](const Stmt& s) { found = found || is_loop(s); }, [](const Expr&) {});
    if (found) direct_loops.insert(f.name);
  }
  const std::set<std::string> with_loops = callers_closure(calls, std::move(direct_loops));

  ConstEvaluator constants(module);
  const bool shadows_builtin = module_shadows_pure_builtin(module);
  std::vector<LoopSite> loops;
  for (const Function& f : module.functions) {
    if (!f.body) continue;
    const bool in_uniform_function = near_uniform_functions.contains(f.name);
    std::set<const Stmt*> under_branch;
    if (in_uniform_function) branch_loops(*f.body, false, under_branch);
    const std::set<std::string> locals = declared_names(f);
    const ChargeContext context{module, constants, f, locals, with_loops};
    const RangeLoopFinder range_loops(module, f, &shadows_builtin);
    visit_stmt(
        *f.body,
        [&](const Stmt& s) {
          if (!is_loop(s)) return;
          LoopSite site{&s, needs_uniform(s), in_uniform_function, under_branch.contains(&s),
                        charged_trip_count(s, context), std::nullopt};
          // The run-time guard of a range loop is not workgroup-uniform: none around barriers.
          if (!site.charged_trips && !site.needs_uniform_exit) site.range = range_loops(s, context);
          loops.push_back(site);
        },
        [](const Expr&) {});
  }
  return loops;
}

}  // namespace kem::wgsl
