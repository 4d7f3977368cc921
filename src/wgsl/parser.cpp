#include "parser.h"

#include <algorithm>
#include <array>
#include <new>
#include <optional>
#include <span>
#include <vector>

#include "front_end_runs.h"
#include "lexer.h"

namespace kem::wgsl {

bool is_keyword(std::string_view word) {
  static constexpr std::array<std::string_view, 26> kKeywords = {
      "alias",    "break",   "case",       "const",  "const_assert", "continue", "continuing",
      "default",  "diagnostic", "discard", "else",   "enable",       "false",    "fn",
      "for",      "if",      "let",        "loop",   "override",     "requires", "return",
      "struct",   "switch",  "true",       "var",    "while"};
  return std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end();
}

namespace {

bool is_compound_assignment(std::string_view op) {
  return op == "+=" || op == "-=" || op == "*=" || op == "/=" || op == "%=" || op == "&=" ||
         op == "|=" || op == "^=" || op == ">>=" || op == "<<=";
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::end: return "end of input";
    case TokenKind::template_open: return "'<'";
    case TokenKind::template_close: return "'>'";
    default: return "'" + std::string(t.text) + "'";
  }
}

// The parser stops at the first error: it records it and every production returns null/false,
// so the error travels up as a value without exceptions.
class Parser {
 public:
  // The tokens stay with the caller (ParsedModule keeps them next to the tree it parses).
  explicit Parser(std::span<const Token> tokens) : tokens_(tokens) {}

  Result<Module> run() {
    Module module;
    parse_module(module);
    if (error_) return std::move(*error_);
    return module;
  }

 private:
  // ---- token access -------------------------------------------------------------------------
  // While a '--' token is half taken (take_minus), its second '-' is the current token; the
  // index still points at the '--', so peek(k) for k >= 1 is unchanged.
  const Token& peek(size_t ahead = 0) const {
    if (split_ && ahead == 0) return split_rest_;
    size_t i = std::min(index_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& next() {
    if (split_) {
      split_ = false;
      if (index_ + 1 < tokens_.size()) ++index_;
      last_end_ = split_rest_.end_offset();
      return split_rest_;
    }
    const Token& t = tokens_[index_];
    if (index_ + 1 < tokens_.size()) ++index_;
    last_end_ = t.end_offset();
    return t;
  }
  bool peek_minus() const { return peek().is("-") || peek().is("--"); }
  // Takes one '-' where an operator '-' may stand. WGSL has no prefix decrement, so a '--' there
  // is two minus signs, as in Tint: `b--b` is `b - -b`, `--b` is `-(-b)`. Only the statement
  // `i--;` uses '--' whole (parse_statement never comes here for it).
  void take_minus() {
    if (!peek().is("--")) {
      next();
      return;
    }
    const Token& t = peek();
    split_rest_ = Token{TokenKind::punct, t.text.substr(1),
                        SourcePos{t.pos.offset + 1, t.pos.line, t.pos.column + 1}};
    last_end_ = t.pos.offset + 1;
    split_ = true;
  }
  bool accept(std::string_view punct_or_word) {
    if (!peek().is(punct_or_word)) return false;
    next();
    return true;
  }
  bool expect(std::string_view punct_or_word, std::string_view context = {}) {
    if (accept(punct_or_word)) return true;
    std::string what = "expected '" + std::string(punct_or_word) + "'";
    if (!context.empty()) what += " " + std::string(context);
    return fail_expected(what);
  }
  bool fail_expected(std::string_view what) {
    return fail(peek().pos, std::string(what) + ", found " + describe(peek()));
  }
  bool fail(SourcePos pos, std::string message) {
    if (!error_) error_ = make_error(ErrorCode::compile_error, format_diagnostic(pos, message));
    return false;
  }
  bool failed() const { return error_.has_value(); }
  bool peek_word(std::string_view w) const {
    return peek().kind == TokenKind::identifier && peek().text == w;
  }

  // ---- nesting guard ------------------------------------------------------------------------
  class Nest {
   public:
    explicit Nest(Parser& p) : p_(p) { ++p_.depth_; }
    ~Nest() { --p_.depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    // False (and the error recorded) when the input nests deeper than kMaxNesting.
    bool ok() {
      if (p_.depth_ <= kMaxNesting) return true;
      return p_.fail(p_.peek().pos, "nesting is too deep (more than " +
                                        std::to_string(kMaxNesting) + " levels)");
    }

   private:
    Parser& p_;
  };

  // ---- names --------------------------------------------------------------------------------
  // An identifier that names something (not a keyword); `what` goes into the error.
  std::optional<Token> parse_name(std::string_view what) {
    const Token& t = peek();
    if (t.kind != TokenKind::identifier) {
      fail_expected("expected " + std::string(what));
      return std::nullopt;
    }
    if (is_keyword(t.text)) {
      fail(t.pos, "expected " + std::string(what) + ", found keyword '" + std::string(t.text) + "'");
      return std::nullopt;
    }
    return next();
  }

  // ---- expressions --------------------------------------------------------------------------
  ExprPtr node(ExprKind kind, SourcePos pos, std::string text = {}) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    e->text = std::move(text);
    e->end = last_end_;
    return e;
  }
  // Completes a node whose children are attached: its end and height, with the height bound.
  ExprPtr finish(ExprPtr e) {
    uint32_t h = 0;
    for (const auto& c : e->operands) h = std::max(h, c->height);
    for (const auto& c : e->template_args) h = std::max(h, c->height);
    e->height = h + 1;
    e->end = last_end_;
    if (e->height > kMaxExpressionHeight) {
      fail(e->pos, "expression is too complex (more than " +
                       std::to_string(kMaxExpressionHeight) + " levels)");
      return nullptr;
    }
    return e;
  }
  ExprPtr binary(std::string op, ExprPtr lhs, ExprPtr rhs) {
    SourcePos pos = lhs->pos;
    auto e = node(ExprKind::binary, pos, std::move(op));
    e->operands.push_back(std::move(lhs));
    e->operands.push_back(std::move(rhs));
    return finish(std::move(e));
  }

  // expression: a bitwise chain of one operator over unary operands, or a relational expression,
  // optionally chained by one of '&&' / '||'. WGSL forbids mixing these without parentheses.
  // The frames on the recursive path (parse_expression, parse_unary, parse_primary,
  // parse_ident_or_call, parse_type_or_ident, parse_template_list) hold a few pointers only:
  // branches with strings and messages live in functions of their own, so the deepest nesting
  // the parser accepts fits a 256 KiB stack even in an unoptimised ASan build (issue 19).
  ExprPtr parse_expression() {
    Nest nest(*this);
    if (!nest.ok()) return nullptr;
    ExprPtr first = parse_unary();
    if (!first) return nullptr;
    return parse_expression_rest(std::move(first));
  }
  ExprPtr parse_expression_rest(ExprPtr first) {
    const Token& t = peek();
    if (t.kind == TokenKind::punct && (t.text == "&" || t.text == "|" || t.text == "^")) {
      std::string op(t.text);
      while (peek().is(op)) {
        next();
        ExprPtr rhs = parse_unary();
        if (!rhs) return nullptr;
        first = binary(op, std::move(first), std::move(rhs));
        if (!first) return nullptr;
      }
      return first;
    }
    ExprPtr rel = parse_relational(std::move(first));
    if (!rel) return nullptr;
    if (peek().is("&&") || peek().is("||")) {
      std::string op(peek().text);
      while (peek().is(op)) {
        next();
        ExprPtr rhs = parse_unary();
        if (!rhs) return nullptr;
        rhs = parse_relational(std::move(rhs));
        if (!rhs) return nullptr;
        rel = binary(op, std::move(rel), std::move(rhs));
        if (!rel) return nullptr;
      }
    }
    return rel;
  }

  // The parse_* functions below take their first operand already parsed as a unary expression.
  ExprPtr parse_relational(ExprPtr lhs) {
    lhs = parse_shift(std::move(lhs));
    if (!lhs) return nullptr;
    const Token& t = peek();
    if (t.kind == TokenKind::punct && (t.text == "<" || t.text == ">" || t.text == "<=" ||
                                       t.text == ">=" || t.text == "==" || t.text == "!=")) {
      std::string op(next().text);
      ExprPtr rhs = parse_unary();
      if (!rhs) return nullptr;
      rhs = parse_shift(std::move(rhs));
      if (!rhs) return nullptr;
      return binary(std::move(op), std::move(lhs), std::move(rhs));
    }
    return lhs;
  }
  ExprPtr parse_shift(ExprPtr lhs) {
    if (peek().is("<<") || peek().is(">>")) {
      std::string op(next().text);
      ExprPtr rhs = parse_unary();
      if (!rhs) return nullptr;
      return binary(std::move(op), std::move(lhs), std::move(rhs));
    }
    return parse_additive(std::move(lhs));
  }
  ExprPtr parse_additive(ExprPtr lhs) {
    lhs = parse_multiplicative(std::move(lhs));
    while (lhs && (peek().is("+") || peek_minus())) {
      std::string op = peek().is("+") ? std::string(next().text) : "-";
      if (op == "-") take_minus();
      ExprPtr rhs = parse_unary();
      if (!rhs) return nullptr;
      rhs = parse_multiplicative(std::move(rhs));
      if (!rhs) return nullptr;
      lhs = binary(std::move(op), std::move(lhs), std::move(rhs));
    }
    return lhs;
  }
  ExprPtr parse_multiplicative(ExprPtr lhs) {
    while (lhs && (peek().is("*") || peek().is("/") || peek().is("%"))) {
      std::string op(next().text);
      ExprPtr rhs = parse_unary();
      if (!rhs) return nullptr;
      lhs = binary(std::move(op), std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  ExprPtr parse_unary() {
    Nest nest(*this);
    if (!nest.ok()) return nullptr;
    if (is_unary_operator(peek())) return parse_unary_operator();
    ExprPtr e = parse_primary();
    if (!e) return nullptr;
    if (!is_postfix_start()) return e;
    return parse_postfix(std::move(e));
  }
  ExprPtr parse_unary_operator() {
    SourcePos pos = peek().pos;
    std::string op;
    if (peek_minus()) {
      op = "-";
      take_minus();
    } else {
      op = std::string(next().text);
    }
    ExprPtr operand = parse_unary();
    if (!operand) return nullptr;
    auto e = node(ExprKind::unary, pos, std::move(op));
    e->operands.push_back(std::move(operand));
    return finish(std::move(e));
  }

  // component_or_swizzle_specifier: any number of `[index]` and `.member`.
  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      if (peek().is("[")) {
        next();
        ExprPtr index = parse_expression();
        if (!index || !expect("]", "after array index")) return nullptr;
        auto ix = node(ExprKind::index, e->pos);
        ix->operands.push_back(std::move(e));
        ix->operands.push_back(std::move(index));
        e = finish(std::move(ix));
      } else if (peek().is(".")) {
        next();
        if (peek().kind != TokenKind::identifier) {
          fail_expected("expected member name after '.'");
          return nullptr;
        }
        std::string name(next().text);
        auto m = node(ExprKind::member, e->pos, std::move(name));
        m->operands.push_back(std::move(e));
        e = finish(std::move(m));
      } else {
        return e;
      }
      if (!e) return nullptr;
    }
  }

  ExprPtr parse_primary() {
    if (is_name_start(peek())) return parse_ident_or_call();
    if (is_open_paren(peek())) {
      next();
      ExprPtr inner = parse_expression();
      if (!inner || !close_paren()) return nullptr;
      return inner;
    }
    return parse_literal();
  }
  bool close_paren() { return expect(")", "to close '('"); }
  static bool is_unary_operator(const Token& t) {
    return t.kind == TokenKind::punct && (t.text == "-" || t.text == "--" || t.text == "!" ||
                                          t.text == "~" || t.text == "*" || t.text == "&");
  }
  static bool is_name_start(const Token& t) {
    return t.kind == TokenKind::identifier && t.text != "true" && t.text != "false";
  }
  static bool is_open_paren(const Token& t) { return t.is("("); }
  bool is_postfix_start() const { return peek().is("[") || peek().is("."); }
  ExprPtr parse_literal() {
    const Token& t = peek();
    ExprKind kind = ExprKind::bool_literal;
    if (t.kind == TokenKind::int_literal) {
      kind = ExprKind::int_literal;
    } else if (t.kind == TokenKind::float_literal) {
      kind = ExprKind::float_literal;
    } else if (t.kind != TokenKind::identifier) {  // true and false come here as identifiers
      fail_expected("expected expression");
      return nullptr;
    }
    next();
    return node(kind, t.pos, std::string(t.text));
  }

  // template_elaborated_ident, optionally followed by call arguments.
  ExprPtr parse_ident_or_call() {
    ExprPtr e = parse_type_or_ident("expression");
    if (!e) return nullptr;
    if (!peek().is("(")) return e;
    next();
    e->kind = ExprKind::call;
    if (!parse_expression_list(e->operands, ")")) return nullptr;
    return finish(std::move(e));
  }

  // An identifier with an optional template list: a type such as `array<vec4<f32>, 4>`, or the
  // callee of a call such as `bitcast<u32>(x)`.
  ExprPtr parse_type_or_ident(std::string_view what) {
    ExprPtr e = parse_name_node(what);
    if (!e) return nullptr;
    if (peek().kind == TokenKind::template_open && !parse_template_list(*e)) return nullptr;
    return finish(std::move(e));
  }
  ExprPtr parse_name_node(std::string_view what) {
    std::optional<Token> name = parse_name(what);
    if (!name) return nullptr;
    return node(ExprKind::identifier, name->pos, std::string(name->text));
  }
  // The template list after `e`'s name, into e.template_args.
  bool parse_template_list(Expr& e) {
    Nest nest(*this);
    if (!nest.ok()) return false;
    // Tint allows 127 nested template lists. One list is one nesting level: the argument's
    // parse_expression and parse_unary, which count two more, are given back while it is
    // parsed, so the recursion stays bounded by 3 * kMaxNesting frames.
    if (++template_depth_ > kMaxTemplateDepth) return fail_template_depth();
    struct Leave {
      Parser& p;
      ~Leave() { --p.template_depth_; }
    } leave{*this};
    next();
    do {
      if (peek().kind == TokenKind::template_close) break;  // trailing comma
      depth_ -= 2;
      ExprPtr arg = parse_expression();
      depth_ += 2;
      if (!arg) return false;
      e.template_args.push_back(std::move(arg));
    } while (accept(","));
    if (e.template_args.empty() || peek().kind != TokenKind::template_close)
      return fail_template_end(e);
    next();
    return true;
  }
  bool fail_template_depth() {
    return fail(peek().pos, "nesting is too deep (more than " + std::to_string(kMaxTemplateDepth) +
                                " template lists)");
  }
  bool fail_template_end(const Expr& e) {
    if (e.template_args.empty()) return fail_expected("expected template argument");
    return fail_expected("expected '>' to close the template list");
  }

  // Comma-separated expressions up to `close` (already past the opening bracket); a trailing
  // comma is allowed.
  bool parse_expression_list(std::vector<ExprPtr>& out, std::string_view close) {
    while (!peek().is(close)) {
      ExprPtr e = parse_expression();
      if (!e) return false;
      out.push_back(std::move(e));
      if (!accept(",")) break;
    }
    return expect(close, "to close the argument list");
  }

  // lhs_expression: what may be assigned to, incremented or decremented.
  ExprPtr parse_lhs() {
    Nest nest(*this);
    if (!nest.ok()) return nullptr;
    const Token& t = peek();
    if (t.is("*") || t.is("&")) {
      SourcePos pos = t.pos;
      std::string op(next().text);
      ExprPtr operand = parse_lhs();
      if (!operand) return nullptr;
      auto e = node(ExprKind::unary, pos, std::move(op));
      e->operands.push_back(std::move(operand));
      return finish(std::move(e));
    }
    ExprPtr core;
    if (t.is("(")) {
      next();
      core = parse_lhs();
      if (!core || !expect(")", "to close '('")) return nullptr;
    } else {
      std::optional<Token> name = parse_name("statement");
      if (!name) return nullptr;
      core = node(ExprKind::identifier, name->pos, std::string(name->text));
    }
    return parse_postfix(std::move(core));
  }

  // ---- attributes ---------------------------------------------------------------------------
  bool parse_attributes(std::vector<Attribute>& out) {
    while (peek().is("@")) {
      Attribute a;
      a.pos = next().pos;
      if (peek().kind != TokenKind::identifier) return fail_expected("expected attribute name");
      a.name = std::string(next().text);
      if (accept("(")) {
        if (!parse_expression_list(a.args, ")")) return false;
      }
      a.end = last_end_;
      out.push_back(std::move(a));
    }
    return true;
  }

  // ---- declarations -------------------------------------------------------------------------
  // After the keyword of var / let / const / override.
  std::unique_ptr<VarDecl> parse_var_decl(const Token& keyword, std::vector<Attribute> attrs,
                                          bool initializer_required) {
    auto d = std::make_unique<VarDecl>();
    d->keyword = std::string(keyword.text);
    d->pos = keyword.pos;
    d->attributes = std::move(attrs);
    if (keyword.text == "var" && peek().kind == TokenKind::template_open) {
      next();
      do {
        if (peek().kind == TokenKind::template_close) break;
        ExprPtr arg = parse_expression();
        if (!arg) return nullptr;
        d->var_template.push_back(std::move(arg));
      } while (accept(","));
      if (peek().kind != TokenKind::template_close) {
        fail_expected("expected '>' to close the address space");
        return nullptr;
      }
      next();
    }
    std::optional<Token> name = parse_name("a name for the " + d->keyword);
    if (!name) return nullptr;
    d->name = std::string(name->text);
    d->name_pos = name->pos;
    if (accept(":")) {
      d->type = parse_type_or_ident("type");
      if (!d->type) return nullptr;
    }
    if (accept("=")) {
      d->initializer = parse_expression();
      if (!d->initializer) return nullptr;
    } else if (initializer_required) {
      fail_expected("expected '=' (a " + d->keyword + " needs an initializer)");
      return nullptr;
    }
    d->end = last_end_;
    return d;
  }

  void parse_module(Module& m) {
    // Directives come first.
    for (;;) {
      if (peek_word("enable") || peek_word("requires")) {
        Directive d;
        d.pos = peek().pos;
        d.keyword = std::string(next().text);
        do {
          if (peek().is(";")) break;
          if (!parse_name("extension name")) return;
        } while (accept(","));
        if (!expect(";", "after directive")) return;
        d.end = last_end_;
        m.directives.push_back(std::move(d));
      } else if (peek_word("diagnostic")) {
        Directive d;
        d.pos = peek().pos;
        d.keyword = std::string(next().text);
        if (!parse_diagnostic_control() || !expect(";", "after directive")) return;
        d.end = last_end_;
        m.directives.push_back(std::move(d));
      } else {
        break;
      }
    }
    m.first_declaration_offset = peek().pos.offset;
    while (peek().kind != TokenKind::end) {
      if (accept(";")) continue;
      if (!parse_global_decl(m)) return;
    }
  }

  // '(' severity ',' rule_name [',' ] ')' where rule_name is `name` or `name.name`.
  bool parse_diagnostic_control() {
    if (!expect("(", "after 'diagnostic'")) return false;
    if (!parse_name("diagnostic severity")) return false;
    if (!expect(",", "after diagnostic severity")) return false;
    if (peek().kind != TokenKind::identifier) return fail_expected("expected diagnostic rule name");
    next();
    if (accept(".")) {
      if (peek().kind != TokenKind::identifier)
        return fail_expected("expected diagnostic rule name");
      next();
    }
    accept(",");
    return expect(")", "to close the diagnostic control");
  }

  bool parse_global_decl(Module& m) {
    std::vector<Attribute> attrs;
    if (!parse_attributes(attrs)) return false;
    const Token& t = peek();
    if (t.kind == TokenKind::identifier) {
      if (t.text == "fn") return parse_function(m, std::move(attrs));
      if (t.text == "var" || t.text == "override" || t.text == "const") {
        if (t.text == "const" && !attrs.empty())
          return fail(attrs.front().pos, "a const declaration takes no attributes");
        const Token& keyword = next();
        auto d = parse_var_decl(keyword, std::move(attrs), keyword.text == "const");
        if (!d || !expect(";", "after declaration")) return false;
        m.globals.push_back(std::move(*d));
        return true;
      }
      if (attrs.empty()) {
        if (t.text == "alias") return parse_alias(m);
        if (t.text == "struct") return parse_struct(m);
        if (t.text == "const_assert") {
          next();
          ExprPtr e = parse_expression();
          if (!e || !expect(";", "after const_assert")) return false;
          m.const_asserts.push_back(std::move(e));
          return true;
        }
      }
    }
    if (!attrs.empty()) return fail_expected("expected 'fn', 'var' or 'override' after attributes");
    return fail_expected("expected a declaration (fn, var, const, override, struct, alias or "
                         "const_assert)");
  }

  bool parse_alias(Module& m) {
    Alias a;
    a.pos = next().pos;
    std::optional<Token> name = parse_name("alias name");
    if (!name || !expect("=", "after alias name")) return false;
    a.name = std::string(name->text);
    a.type = parse_type_or_ident("type");
    if (!a.type || !expect(";", "after alias")) return false;
    m.aliases.push_back(std::move(a));
    return true;
  }

  bool parse_struct(Module& m) {
    StructDecl s;
    s.pos = next().pos;
    std::optional<Token> name = parse_name("struct name");
    if (!name || !expect("{", "to open the struct body")) return false;
    s.name = std::string(name->text);
    s.name_pos = name->pos;
    while (!peek().is("}")) {
      StructMember member;
      if (!parse_attributes(member.attributes)) return false;
      std::optional<Token> mname = parse_name("member name");
      if (!mname || !expect(":", "after member name")) return false;
      member.name = std::string(mname->text);
      member.pos = mname->pos;
      member.type = parse_type_or_ident("type");
      if (!member.type) return false;
      s.members.push_back(std::move(member));
      if (!accept(",")) break;
    }
    if (!expect("}", "to close the struct body")) return false;
    if (s.members.empty()) return fail(s.pos, "a struct needs at least one member");
    s.end = last_end_;
    m.structs.push_back(std::move(s));
    return true;
  }

  bool parse_function(Module& m, std::vector<Attribute> attrs) {
    Function f;
    f.attributes = std::move(attrs);
    f.pos = next().pos;
    std::optional<Token> name = parse_name("function name");
    if (!name || !expect("(", "after function name")) return false;
    f.name = std::string(name->text);
    f.name_pos = name->pos;
    while (!peek().is(")")) {
      Param p;
      if (!parse_attributes(p.attributes)) return false;
      std::optional<Token> pname = parse_name("parameter name");
      if (!pname || !expect(":", "after parameter name")) return false;
      p.name = std::string(pname->text);
      p.pos = pname->pos;
      p.type = parse_type_or_ident("type");
      if (!p.type) return false;
      f.params.push_back(std::move(p));
      if (!accept(",")) break;
    }
    if (!expect(")", "to close the parameter list")) return false;
    if (accept("->")) {
      if (!parse_attributes(f.return_attributes)) return false;
      f.return_type = parse_type_or_ident("return type");
      if (!f.return_type) return false;
    }
    std::vector<Attribute> body_attrs;
    if (!parse_attributes(body_attrs)) return false;
    f.body = parse_compound(std::move(body_attrs));
    if (!f.body) return false;
    m.functions.push_back(std::move(f));
    return true;
  }

  // ---- statements ---------------------------------------------------------------------------
  StmtPtr stmt(StmtKind kind, SourcePos pos, std::vector<Attribute> attrs = {}) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    s->attributes = std::move(attrs);
    return s;
  }

  // '{' statement* '}' (attributes already read).
  StmtPtr parse_compound(std::vector<Attribute> attrs) {
    if (!peek().is("{")) {
      fail_expected("expected '{'");
      return nullptr;
    }
    auto s = stmt(StmtKind::compound, next().pos, std::move(attrs));
    while (!peek().is("}")) {
      if (peek().kind == TokenKind::end) {
        fail_expected("expected '}' to close the block");
        return nullptr;
      }
      StmtPtr inner = parse_statement();
      if (!inner) return nullptr;
      s->statements.push_back(std::move(inner));
    }
    next();
    s->end = last_end_;
    return s;
  }

  StmtPtr parse_statement() {
    Nest nest(*this);
    if (!nest.ok()) return nullptr;
    std::vector<Attribute> attrs;
    if (!parse_attributes(attrs)) return nullptr;
    const Token& t = peek();
    if (t.is("{")) return parse_compound(std::move(attrs));
    if (t.kind == TokenKind::identifier) {
      if (t.text == "if") return parse_if(std::move(attrs));
      if (t.text == "switch") return parse_switch(std::move(attrs));
      if (t.text == "loop") return parse_loop(std::move(attrs));
      if (t.text == "for") return parse_for(std::move(attrs));
      if (t.text == "while") return parse_while(std::move(attrs));
    }
    if (!attrs.empty()) {
      fail_expected("expected a block, if, switch, loop, for or while statement after attributes");
      return nullptr;
    }
    StmtPtr s = parse_statement_before_semicolon();
    if (!s) return nullptr;
    if (s->kind == StmtKind::empty) return s;  // the ';' is the statement
    if (!expect(";", "after statement")) return nullptr;
    s->end = last_end_;
    return s;
  }

  // The statements that end in ';' (which is left for the caller).
  StmtPtr parse_statement_before_semicolon() {
    const Token& t = peek();
    SourcePos pos = t.pos;
    if (t.is(";")) {
      next();
      auto s = stmt(StmtKind::empty, pos);
      s->end = last_end_;
      return s;
    }
    if (t.kind == TokenKind::identifier) {
      if (t.text == "return") {
        next();
        auto s = stmt(StmtKind::return_, pos);
        if (!peek().is(";")) {
          s->expr = parse_expression();
          if (!s->expr) return nullptr;
        }
        return s;
      }
      if (t.text == "break") {
        next();
        if (peek_word("if")) {
          fail(peek().pos, "'break if' is only allowed as the last statement of a continuing block");
          return nullptr;
        }
        return stmt(StmtKind::break_, pos);
      }
      if (t.text == "continue" || t.text == "discard") {
        StmtKind kind = t.text == "continue" ? StmtKind::continue_ : StmtKind::discard;
        next();
        return stmt(kind, pos);
      }
      if (t.text == "const_assert") {
        next();
        auto s = stmt(StmtKind::const_assert, pos);
        s->expr = parse_expression();
        if (!s->expr) return nullptr;
        return s;
      }
    }
    return parse_simple_statement();
  }

  // Declarations, assignments, increments, decrements and calls: the statements that may also
  // stand in a for-loop header.
  StmtPtr parse_simple_statement() {
    const Token& t = peek();
    SourcePos pos = t.pos;
    if (t.kind == TokenKind::identifier &&
        (t.text == "var" || t.text == "let" || t.text == "const")) {
      const Token& keyword = next();
      auto s = stmt(StmtKind::declaration, pos);
      s->decl = parse_var_decl(keyword, {}, keyword.text != "var");
      if (!s->decl) return nullptr;
      s->end = last_end_;
      return s;
    }
    if (t.is("_")) {
      next();
      if (!expect("=", "after '_'")) return nullptr;
      auto s = stmt(StmtKind::assignment, pos);
      s->op = "=";
      s->expr = parse_expression();
      if (!s->expr) return nullptr;
      s->end = last_end_;
      return s;
    }
    if (t.kind == TokenKind::identifier && !is_keyword(t.text) &&
        (peek(1).is("(") || peek(1).kind == TokenKind::template_open)) {
      auto s = stmt(StmtKind::call, pos);
      s->expr = parse_ident_or_call();
      if (!s->expr) return nullptr;
      if (s->expr->kind != ExprKind::call) {
        fail_expected("expected '(' to call '" + s->expr->text + "'");
        return nullptr;
      }
      s->end = last_end_;
      return s;
    }
    if (t.kind == TokenKind::identifier && is_keyword(t.text)) {
      fail_expected("expected statement");
      return nullptr;
    }
    ExprPtr target = parse_lhs();
    if (!target) return nullptr;
    const Token& op = peek();
    StmtPtr s;
    if (op.is("++") || op.is("--")) {
      s = stmt(op.is("++") ? StmtKind::increment : StmtKind::decrement, pos);
      next();
    } else if (op.is("=") || (op.kind == TokenKind::punct && is_compound_assignment(op.text))) {
      s = stmt(StmtKind::assignment, pos);
      s->op = std::string(next().text);
      s->expr = parse_expression();
      if (!s->expr) return nullptr;
    } else {
      fail_expected("expected assignment, '++' or '--'");
      return nullptr;
    }
    s->lhs = std::move(target);
    s->end = last_end_;
    return s;
  }

  StmtPtr parse_if(std::vector<Attribute> attrs) {
    Nest nest(*this);  // else-if chains recurse
    if (!nest.ok()) return nullptr;
    auto s = stmt(StmtKind::if_, next().pos, std::move(attrs));
    s->expr = parse_expression();
    if (!s->expr) return nullptr;
    s->body = parse_compound({});
    if (!s->body) return nullptr;
    if (accept("else")) {
      if (peek_word("if")) s->else_branch = parse_if({});
      else s->else_branch = parse_compound({});
      if (!s->else_branch) return nullptr;
    }
    s->end = last_end_;
    return s;
  }

  StmtPtr parse_switch(std::vector<Attribute> attrs) {
    auto s = stmt(StmtKind::switch_, next().pos, std::move(attrs));
    s->expr = parse_expression();
    if (!s->expr) return nullptr;
    std::vector<Attribute> body_attrs;
    if (!parse_attributes(body_attrs) || !expect("{", "to open the switch body")) return nullptr;
    while (!peek().is("}")) {
      SwitchClause c;
      c.pos = peek().pos;
      if (accept("default")) {
        c.is_default = true;
      } else if (accept("case")) {
        do {
          if (peek().is(":") || peek().is("{")) break;  // trailing comma
          if (peek_word("default")) {
            c.is_default = true;
            c.selectors.push_back(node(ExprKind::identifier, next().pos, "default"));
            continue;
          }
          ExprPtr e = parse_expression();
          if (!e) return nullptr;
          c.selectors.push_back(std::move(e));
        } while (accept(","));
        if (c.selectors.empty()) {
          fail_expected("expected case selector");
          return nullptr;
        }
      } else {
        fail_expected("expected 'case', 'default' or '}' in switch");
        return nullptr;
      }
      accept(":");
      std::vector<Attribute> clause_attrs;
      if (!parse_attributes(clause_attrs)) return nullptr;
      c.body = parse_compound(std::move(clause_attrs));
      if (!c.body) return nullptr;
      s->clauses.push_back(std::move(c));
    }
    next();
    if (s->clauses.empty()) {
      fail(s->pos, "a switch needs at least one clause");
      return nullptr;
    }
    s->end = last_end_;
    return s;
  }

  StmtPtr parse_loop(std::vector<Attribute> attrs) {
    auto s = stmt(StmtKind::loop, next().pos, std::move(attrs));
    std::vector<Attribute> body_attrs;
    if (!parse_attributes(body_attrs)) return nullptr;
    if (!peek().is("{")) {
      fail_expected("expected '{' after 'loop'");
      return nullptr;
    }
    s->body = stmt(StmtKind::compound, next().pos, std::move(body_attrs));
    while (!peek().is("}")) {
      if (peek().kind == TokenKind::end) {
        fail_expected("expected '}' to close the loop");
        return nullptr;
      }
      if (peek_word("continuing")) {
        s->continuing = parse_continuing();
        if (!s->continuing) return nullptr;
        if (!peek().is("}")) {
          fail_expected("expected '}' after the continuing block (it must come last)");
          return nullptr;
        }
        break;
      }
      StmtPtr inner = parse_statement();
      if (!inner) return nullptr;
      s->body->statements.push_back(std::move(inner));
    }
    next();
    s->body->end = last_end_;
    s->end = last_end_;
    return s;
  }

  StmtPtr parse_continuing() {
    SourcePos pos = next().pos;
    std::vector<Attribute> attrs;
    if (!parse_attributes(attrs)) return nullptr;
    if (!peek().is("{")) {
      fail_expected("expected '{' after 'continuing'");
      return nullptr;
    }
    auto s = stmt(StmtKind::compound, next().pos, std::move(attrs));
    (void)pos;
    while (!peek().is("}")) {
      if (peek().kind == TokenKind::end) {
        fail_expected("expected '}' to close the continuing block");
        return nullptr;
      }
      if (peek_word("break") && peek(1).is("if")) {
        auto b = stmt(StmtKind::break_if, next().pos);
        next();
        b->expr = parse_expression();
        if (!b->expr || !expect(";", "after 'break if' condition")) return nullptr;
        b->end = last_end_;
        s->statements.push_back(std::move(b));
        if (!peek().is("}")) {
          fail_expected("expected '}': 'break if' must be the last statement of continuing");
          return nullptr;
        }
        break;
      }
      StmtPtr inner = parse_statement();
      if (!inner) return nullptr;
      s->statements.push_back(std::move(inner));
    }
    next();
    s->end = last_end_;
    return s;
  }

  StmtPtr parse_for(std::vector<Attribute> attrs) {
    auto s = stmt(StmtKind::for_, next().pos, std::move(attrs));
    if (!expect("(", "after 'for'")) return nullptr;
    if (!peek().is(";")) {
      s->init = parse_simple_statement();
      if (!s->init) return nullptr;
    }
    if (!expect(";", "after the for-loop initializer")) return nullptr;
    if (!peek().is(";")) {
      s->expr = parse_expression();
      if (!s->expr) return nullptr;
    }
    if (!expect(";", "after the for-loop condition")) return nullptr;
    if (!peek().is(")")) {
      s->update = parse_simple_statement();
      if (!s->update) return nullptr;
      if (s->update->kind == StmtKind::declaration) {
        fail(s->update->pos, "a for-loop update cannot be a declaration");
        return nullptr;
      }
    }
    if (!expect(")", "to close the for-loop header")) return nullptr;
    std::vector<Attribute> body_attrs;
    if (!parse_attributes(body_attrs)) return nullptr;
    s->body = parse_compound(std::move(body_attrs));
    if (!s->body) return nullptr;
    s->end = last_end_;
    return s;
  }

  StmtPtr parse_while(std::vector<Attribute> attrs) {
    auto s = stmt(StmtKind::while_, next().pos, std::move(attrs));
    s->expr = parse_expression();
    if (!s->expr) return nullptr;
    std::vector<Attribute> body_attrs;
    if (!parse_attributes(body_attrs)) return nullptr;
    s->body = parse_compound(std::move(body_attrs));
    if (!s->body) return nullptr;
    s->end = last_end_;
    return s;
  }

  std::span<const Token> tokens_;
  size_t index_ = 0;
  bool split_ = false;  // a '--' is half taken; split_rest_ is its second '-'
  Token split_rest_;
  uint32_t last_end_ = 0;
  int depth_ = 0;
  int template_depth_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<Module> parse_tokens(std::span<const Token> tokens) {
  try {
    count_parse();
    // The parser looks ahead as far as the end token, never past it.
    if (tokens.empty() || tokens.back().kind != TokenKind::end)
      return make_error(ErrorCode::internal, "parse_tokens: the tokens must end in TokenKind::end");
    return Parser(tokens).run();
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::internal, "out of memory while parsing WGSL");
  }
}

Result<Module> parse_wgsl(std::string_view source) {
  try {
    Result<std::vector<Token>> tokens = tokenize(source);
    if (!tokens) return tokens.take_error();
    return parse_tokens(*tokens);
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::internal, "out of memory while parsing WGSL");
  }
}

}  // namespace kem::wgsl
