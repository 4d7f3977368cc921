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

}  // namespace

std::vector<LoopSite> find_loops(const Module& module) {
  // A function needs uniform control flow if it calls such a builtin or such a function. WGSL
  // forbids recursion, but the input is untrusted, so this is a fixpoint, not a recursion.
  std::map<std::string, std::set<std::string>> calls;
  for (const Function& f : module.functions)
    if (f.body) calls[f.name] = calls_in(*f.body);
  std::set<std::string> uniform_functions;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [name, callees] : calls) {
      if (uniform_functions.contains(name)) continue;
      for (const std::string& c : callees) {
        if (requires_uniform_control_flow(c) || uniform_functions.contains(c)) {
          uniform_functions.insert(name);
          changed = true;
          break;
        }
      }
    }
  }
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
  std::set<std::string> with_loops;
  for (const Function& f : module.functions) {
    if (!f.body) continue;
    bool found = false;
    visit_stmt(*f.body, [&](const Stmt& s) { found = found || is_loop(s); }, [](const Expr&) {});
    if (found) with_loops.insert(f.name);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [name, callees] : calls) {
      if (with_loops.contains(name)) continue;
      for (const std::string& c : callees) {
        if (with_loops.contains(c)) {
          with_loops.insert(name);
          changed = true;
          break;
        }
      }
    }
  }

  ConstEvaluator constants(module);
  std::vector<LoopSite> loops;
  for (const Function& f : module.functions) {
    if (!f.body) continue;
    const std::set<std::string> locals = declared_names(f);
    const ChargeContext context{module, constants, f, locals, with_loops};
    visit_stmt(
        *f.body,
        [&](const Stmt& s) {
          if (!is_loop(s)) return;
          LoopSite site{&s, needs_uniform(s), charged_trip_count(s, context), std::nullopt};
          // The run-time guard of a range loop is not workgroup-uniform: none around barriers.
          if (!site.charged_trips && !site.needs_uniform_exit) site.range = range_loop(s, context);
          loops.push_back(site);
        },
        [](const Expr&) {});
  }
  return loops;
}

}  // namespace kem::wgsl
