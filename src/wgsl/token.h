// Tokens of WGSL source text, as produced by the lexer (lexer.h).
#pragma once

#include <cstdint>
#include <string_view>

namespace kem::wgsl {

// A place in the source. Lines and columns are 1-based; columns count code points, so they
// match what an editor shows for UTF-8 text.
struct SourcePos {
  uint32_t offset = 0;  // byte offset
  uint32_t line = 1;
  uint32_t column = 1;
};

enum class TokenKind {
  identifier,     // also every keyword: WGSL keywords are reserved identifiers
  int_literal,
  float_literal,
  punct,          // operators and punctuation, spelled in `text`
  template_open,  // a '<' that the template-list discovery pass found to open a template list
  template_close, // the '>' that closes it
  end,            // end of input
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string_view text;  // a view into the source
  SourcePos pos;

  bool is(std::string_view punct_or_word) const {
    return (kind == TokenKind::punct || kind == TokenKind::identifier) && text == punct_or_word;
  }
  uint32_t end_offset() const { return pos.offset + static_cast<uint32_t>(text.size()); }
};

}  // namespace kem::wgsl
