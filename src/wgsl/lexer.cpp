#include "lexer.h"

#include <array>
#include <optional>
#include <string>

#include "front_end_runs.h"
#include "text_position.h"

namespace kem::wgsl {

std::string format_diagnostic(SourcePos pos, std::string_view message) {
  std::string out = std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
  out += message;
  return out;
}

Error compile_error_at(SourcePos pos, std::string_view message) {
  return make_error(ErrorCode::compile_error, format_diagnostic(pos, message));
}

namespace {

// Longest first, so that maximal munch is a linear scan of this table.
constexpr std::array<std::string_view, 45> kPunctuation = {
    ">>=", "<<=", "->", "&&", "||", "==", "!=", ">=", "<=", ">>", "<<", "++", "--", "+=", "-=",
    "*=",  "/=",  "%=", "&=", "|=", "^=", "&",  "@",  "/",  "!",  "[",  "]",  "{",  "}",  ":",
    ",",   "=",   ">",  "<",  "%",  "-",  ".",  "+",  "|",  "(",  ")",  ";",  "*",  "~",  "^"};

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// Bytes >= 0x80 are taken as parts of identifiers: WGSL allows Unicode XID characters, and a
// precise XID table buys nothing here because Dawn validates the names again.
bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_ident_char(char c) { return is_ident_start(c) || is_ascii_digit(c); }

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> tokens;
    for (;;) {
      if (auto skipped = skip_blank_and_comments(); !skipped) return skipped.take_error();
      if (at_end()) break;
      Result<Token> token = next_token();
      if (!token) return token.take_error();
      tokens.push_back(*token);
    }
    tokens.push_back(Token{TokenKind::end, src_.substr(src_.size()), pos_});
    return tokens;
  }

 private:
  bool at_end() const { return pos_.offset >= src_.size(); }
  char peek(size_t ahead = 0) const {
    size_t i = pos_.offset + ahead;
    return i < src_.size() ? src_[i] : '\0';
  }
  bool starts_with(std::string_view s) const { return src_.substr(pos_.offset).starts_with(s); }

  // Length in bytes of the line break at the current position, 0 if there is none.
  size_t line_break_length() const { return wgsl::line_break_length(src_, pos_.offset); }
  size_t blank_length() const {
    char c = peek();
    if (c == ' ' || c == '\t') return 1;
    if (starts_with("\xE2\x80\x8E") || starts_with("\xE2\x80\x8F")) return 3;  // U+200E/F
    return 0;
  }

  // Moves over `n` bytes that contain no line break.
  void advance(size_t n) {
    for (size_t i = 0; i < n && !at_end(); ++i) {
      // UTF-8 continuation bytes do not start a new column.
      if ((static_cast<unsigned char>(src_[pos_.offset]) & 0xC0) != 0x80) ++pos_.column;
      ++pos_.offset;
    }
  }
  // Moves over one byte or one line break, keeping line and column right.
  void advance_char() {
    if (size_t n = line_break_length()) {
      pos_.offset += static_cast<uint32_t>(n);
      ++pos_.line;
      pos_.column = 1;
    } else {
      advance(1);
    }
  }

  Status skip_blank_and_comments() {
    for (;;) {
      if (at_end()) return {};
      if (size_t n = line_break_length()) {
        (void)n;
        advance_char();
      } else if (size_t b = blank_length()) {
        advance(b);
      } else if (starts_with("//")) {
        while (!at_end() && line_break_length() == 0) advance(1);
      } else if (starts_with("/*")) {
        // Block comments nest in WGSL.
        SourcePos start = pos_;
        advance(2);
        int depth = 1;
        while (depth > 0) {
          if (at_end())
            return make_error(ErrorCode::compile_error,
                              format_diagnostic(start, "unterminated block comment"));
          if (starts_with("/*")) {
            advance(2);
            ++depth;
          } else if (starts_with("*/")) {
            advance(2);
            --depth;
          } else {
            advance_char();
          }
        }
      } else {
        return {};
      }
    }
  }

  Token make(TokenKind kind, SourcePos start) const {
    return Token{kind, src_.substr(start.offset, pos_.offset - start.offset), start};
  }

  Result<Token> next_token() {
    SourcePos start = pos_;
    char c = peek();
    if (is_ascii_digit(c) || (c == '.' && is_ascii_digit(peek(1)))) return number();
    if (is_ident_start(c)) {
      while (!at_end() && is_ident_char(peek())) advance(1);
      Token t = make(TokenKind::identifier, start);
      if (t.text == "_") t.kind = TokenKind::punct;  // a lone '_' is the phony assignment target
      else if (t.text.starts_with("__"))
        return make_error(ErrorCode::compile_error,
                          format_diagnostic(start, "identifiers must not start with '__'"));
      return t;
    }
    for (std::string_view p : kPunctuation) {
      if (starts_with(p)) {
        advance(p.size());
        return make(TokenKind::punct, start);
      }
    }
    return make_error(ErrorCode::compile_error,
                      format_diagnostic(start, "unexpected character '" +
                                                   printable(static_cast<unsigned char>(c)) + "'"));
  }

  static std::string printable(unsigned char c) {
    if (c >= 0x20 && c < 0x7F) return std::string(1, static_cast<char>(c));
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
  }

  // Integer and floating-point literals, decimal and hexadecimal, with their suffixes.
  Result<Token> number() {
    SourcePos start = pos_;
    bool is_float = false;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      advance(2);
      size_t digits = 0;
      while (is_hex_digit(peek())) advance(1), ++digits;
      if (peek() == '.') {
        is_float = true;
        advance(1);
        while (is_hex_digit(peek())) advance(1), ++digits;
      }
      if (digits == 0) return bad_number(start);
      if (peek() == 'p' || peek() == 'P') {
        size_t sign = (peek(1) == '+' || peek(1) == '-') ? 1 : 0;
        if (!is_ascii_digit(peek(1 + sign))) return bad_number(start);
        is_float = true;
        advance(1 + sign);
        while (is_ascii_digit(peek())) advance(1);
        if (peek() == 'f' || peek() == 'h') advance(1);
      } else if (!is_float && (peek() == 'i' || peek() == 'u')) {
        advance(1);
      }
    } else {
      size_t int_digits = 0;
      while (is_ascii_digit(peek())) advance(1), ++int_digits;
      if (peek() == '.' && (int_digits > 0 || is_ascii_digit(peek(1)))) {
        is_float = true;
        advance(1);
        while (is_ascii_digit(peek())) advance(1);
      }
      if (peek() == 'e' || peek() == 'E') {
        size_t sign = (peek(1) == '+' || peek(1) == '-') ? 1 : 0;
        if (!is_ascii_digit(peek(1 + sign))) return bad_number(start);
        is_float = true;
        advance(1 + sign);
        while (is_ascii_digit(peek())) advance(1);
      }
      if (peek() == 'f' || peek() == 'h') {
        is_float = true;
        advance(1);
      } else if (!is_float && (peek() == 'i' || peek() == 'u')) {
        advance(1);
      }
      // "0" alone is fine, "07" is not an integer (floats such as "07.5" are).
      if (!is_float && int_digits > 1 && src_[start.offset] == '0') return bad_number(start);
    }
    if (is_ident_char(peek()) || peek() == '.') return bad_number(start);
    return make(is_float ? TokenKind::float_literal : TokenKind::int_literal, start);
  }

  Error bad_number(SourcePos start) {
    return make_error(ErrorCode::compile_error,
                      format_diagnostic(start, "malformed numeric literal"));
  }

  std::string_view src_;
  SourcePos pos_;
};

// Splits a '>>', '>=' or '>>=' token into a leading '>' and the rest, in place; returns the rest.
Token split_greater(Token& t) {
  Token rest = t;
  rest.text = t.text.substr(1);
  rest.pos.offset += 1;
  rest.pos.column += 1;
  t.text = t.text.substr(0, 1);
  return rest;
}

// Template-list discovery (WGSL spec, "Template Lists"): a '<' right after an identifier is a
// candidate; it becomes a template list if a '>' follows at the same bracket depth before any
// token that cannot be inside a template list (';', '{', '=', ':', or '&&'/'||' at that depth).
std::vector<Token> classify_templates(const std::vector<Token>& in) {
  struct Candidate {
    size_t index;  // of the '<' in `out`
    size_t depth;
  };
  std::vector<Token> out;
  out.reserve(in.size());
  std::vector<Candidate> pending;
  size_t depth = 0;
  size_t i = 0;
  // The rest of a split '>>' / '>=' / '>>=' token, looked at before the next input token,
  // because a '>>' may close two lists ("array<vec2<f32>>").
  std::optional<Token> carried;
  while (carried || i < in.size()) {
    Token t = carried ? *carried : in[i++];
    carried.reset();
    if (t.kind != TokenKind::punct) {
      out.push_back(t);
      if (t.kind == TokenKind::identifier && i < in.size() && in[i].is("<")) {
        pending.push_back({out.size(), depth});
        out.push_back(in[i++]);
      }
      continue;
    }
    const std::string_view p = t.text;
    if ((p == ">" || p == ">>" || p == ">=" || p == ">>=") && !pending.empty() &&
        pending.back().depth == depth) {
      if (p.size() > 1) carried = split_greater(t);
      t.kind = TokenKind::template_close;
      out[pending.back().index].kind = TokenKind::template_open;
      pending.pop_back();
      out.push_back(t);
      continue;
    }
    out.push_back(t);
    if (p == "(" || p == "[") {
      ++depth;
    } else if (p == ")" || p == "]") {
      while (!pending.empty() && pending.back().depth == depth) pending.pop_back();
      if (depth > 0) --depth;
    } else if (p == ";" || p == "{" || p == "=" || p == ":") {
      depth = 0;
      pending.clear();
    } else if (p == "&&" || p == "||") {
      while (!pending.empty() && pending.back().depth == depth) pending.pop_back();
    }
  }
  return out;
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source) {
  count_tokenization();
  if (source.size() > UINT32_MAX / 2)
    return make_error(ErrorCode::compile_error, "1:1: source too large");
  Result<std::vector<Token>> raw = Lexer(source).run();
  if (!raw) return raw;
  return classify_templates(*raw);
}

}  // namespace kem::wgsl
