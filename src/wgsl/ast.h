// The syntax tree of a WGSL module. Every node keeps where it starts (offset, line, column) and
// the byte offset just past its last token, so that later passes (reflection, loop metering) can
// quote the user's text and point at it.
//
// Nodes are deliberately plain: one struct per syntactic category with a kind tag, rather than a
// class per production. Which fields a kind uses is written next to each field.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "token.h"

namespace kem::wgsl {

enum class ExprKind {
  int_literal,    // text: spelling, e.g. "0x10u"
  float_literal,  // text: spelling
  bool_literal,   // text: "true" or "false"
  identifier,     // text: name; template_args: `array<u32, 4>` (types are expressions too)
  call,           // text: callee; template_args; operands: arguments
  index,          // operands: base, index
  member,         // text: member name or swizzle; operands: base
  unary,          // text: operator ("-", "!", "~", "*", "&"); operands: operand
  binary,         // text: operator; operands: left, right
};

struct Expr {
  ExprKind kind = ExprKind::identifier;
  SourcePos pos;         // first token
  uint32_t end = 0;      // byte offset just past the last token
  uint32_t height = 1;   // of this subtree; the parser bounds it so no walker can overflow the stack
  std::string text;
  std::vector<std::unique_ptr<Expr>> template_args;
  std::vector<std::unique_ptr<Expr>> operands;
};
using ExprPtr = std::unique_ptr<Expr>;

struct Attribute {
  std::string name;  // without '@'
  SourcePos pos;     // of '@'
  uint32_t end = 0;
  std::vector<ExprPtr> args;
};

// var / let / const / override, at module scope or in a function.
struct VarDecl {
  std::string keyword;                // "var", "let", "const" or "override"
  std::vector<Attribute> attributes;
  SourcePos pos;                      // of the keyword
  uint32_t end = 0;                   // past the initializer (or type, or name)
  std::vector<ExprPtr> var_template;  // var<storage, read_write>: address space, access mode
  std::string name;
  SourcePos name_pos;
  ExprPtr type;                       // null when not written
  ExprPtr initializer;                // null when not written
};

enum class StmtKind {
  compound,      // statements
  empty,         // a lone ';'
  return_,       // expr (optional)
  if_,           // expr: condition; body; else_branch (compound or if_, optional)
  switch_,       // expr: selector; clauses
  loop,          // body (its statements); continuing (optional compound, may end in break_if)
  for_,          // init, expr: condition, update (each optional); body
  while_,        // expr: condition; body
  break_,
  break_if,      // expr: condition (only as the last statement of a continuing block)
  continue_,
  discard,
  declaration,   // decl
  assignment,    // op: "=" or a compound operator such as "+="; lhs (null for `_ = e`); expr
  increment,     // lhs
  decrement,     // lhs
  call,          // expr: the call
  const_assert,  // expr
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct SwitchClause {
  SourcePos pos;                  // of `case` / `default`
  std::vector<ExprPtr> selectors; // case values; a `default` selector is an identifier "default"
  bool is_default = false;        // the clause holds `default`, alone or among selectors
  StmtPtr body;                   // compound
};

struct Stmt {
  StmtKind kind = StmtKind::empty;
  SourcePos pos;                      // first token, after the attributes
  uint32_t end = 0;                   // past the last token, ';' and '}' included
  std::vector<Attribute> attributes;
  std::vector<StmtPtr> statements;    // compound
  std::string op;                     // assignment
  ExprPtr lhs;
  ExprPtr expr;
  StmtPtr body;                       // if_, loop, for_, while_: a compound statement
  StmtPtr else_branch;
  StmtPtr continuing;
  StmtPtr init;
  StmtPtr update;
  std::vector<SwitchClause> clauses;
  std::unique_ptr<VarDecl> decl;
};

struct Param {
  std::vector<Attribute> attributes;
  std::string name;
  SourcePos pos;
  ExprPtr type;
};

struct Function {
  std::vector<Attribute> attributes;
  SourcePos pos;            // of `fn`
  std::string name;
  SourcePos name_pos;
  std::vector<Param> params;
  std::vector<Attribute> return_attributes;
  ExprPtr return_type;      // null for none
  StmtPtr body;             // compound
};

struct StructMember {
  std::vector<Attribute> attributes;
  std::string name;
  SourcePos pos;
  ExprPtr type;
};

struct StructDecl {
  SourcePos pos;
  std::string name;
  SourcePos name_pos;
  std::vector<StructMember> members;
  uint32_t end = 0;
};

struct Alias {
  SourcePos pos;
  std::string name;
  ExprPtr type;
};

struct Directive {
  std::string keyword;  // "enable", "requires" or "diagnostic"
  SourcePos pos;
  uint32_t end = 0;     // past the ';'
};

struct Module {
  std::vector<Directive> directives;
  std::vector<VarDecl> globals;       // module-scope var, const and override, in source order
  std::vector<StructDecl> structs;
  std::vector<Alias> aliases;
  std::vector<Function> functions;
  std::vector<ExprPtr> const_asserts;
  uint32_t first_declaration_offset = 0;  // where the first declaration after directives starts
};

}  // namespace kem::wgsl
