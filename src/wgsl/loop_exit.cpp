#include "loop_exit.h"

#include <utility>
#include <vector>

namespace kem::wgsl {

namespace {

bool never_falls_through_by_itself(const Stmt& s) {
  return s.kind == StmtKind::loop || (s.kind == StmtKind::for_ && !s.expr);
}

}  // namespace

std::map<const Stmt*, std::string> budget_exits(const Module& module, std::string_view source) {
  std::map<const Stmt*, std::string> exits;
  for (const Function& f : module.functions) {
    if (!f.return_type || !f.body) continue;
    const Expr& type = *f.return_type;
    const std::string exit =
        "return " + std::string(source.substr(type.pos.offset, type.end - type.pos.offset)) + "();";
    // An explicit stack: statement nesting is bounded by the parser, but no walk here needs to
    // recurse at all.
    std::vector<std::pair<const Stmt*, bool>> stack{{f.body.get(), false}};  // (statement, in continuing)
    while (!stack.empty()) {
      auto [s, in_continuing] = stack.back();
      stack.pop_back();
      if (!s) continue;
      if (!in_continuing && never_falls_through_by_itself(*s)) exits.emplace(s, exit);
      for (const StmtPtr& c : s->statements) stack.push_back({c.get(), in_continuing});
      stack.push_back({s->body.get(), in_continuing});
      stack.push_back({s->else_branch.get(), in_continuing});
      stack.push_back({s->continuing.get(), true});
      stack.push_back({s->init.get(), in_continuing});
      stack.push_back({s->update.get(), in_continuing});
      for (const SwitchClause& c : s->clauses) stack.push_back({c.body.get(), in_continuing});
    }
  }
  return exits;
}

std::map<const Stmt*, const Function*> loop_functions(const Module& module) {
  std::map<const Stmt*, const Function*> out;
  for (const Function& f : module.functions) {
    std::vector<const Stmt*> stack{f.body.get()};
    while (!stack.empty()) {
      const Stmt* s = stack.back();
      stack.pop_back();
      if (!s) continue;
      if (s->kind == StmtKind::loop || s->kind == StmtKind::for_ || s->kind == StmtKind::while_) out.emplace(s, &f);
      for (const StmtPtr& c : s->statements) stack.push_back(c.get());
      for (const Stmt* c : {s->body.get(), s->else_branch.get(), s->continuing.get(), s->init.get(), s->update.get()})
        stack.push_back(c);
      for (const SwitchClause& c : s->clauses) stack.push_back(c.body.get());
    }
  }
  return out;
}

}  // namespace kem::wgsl
