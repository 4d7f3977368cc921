#include "text_position.h"

namespace kem::wgsl {

size_t line_break_length(std::string_view text, size_t at) {
  if (at >= text.size()) return 0;
  const std::string_view rest = text.substr(at);
  const char c = rest[0];
  if (c == '\r') return rest.starts_with("\r\n") ? 2 : 1;
  if (c == '\n' || c == '\v' || c == '\f') return 1;
  if (rest.starts_with("\xC2\x85")) return 2;                                  // U+0085
  if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) return 3;  // U+2028/9
  return 0;
}

SourcePos position_of(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  SourcePos pos;
  size_t i = 0;
  while (i < offset) {
    if (size_t n = line_break_length(text, i)) {
      i += n;
      ++pos.line;
      pos.column = 1;
      continue;
    }
    // UTF-8 continuation bytes do not start a new column.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++pos.column;
    ++i;
  }
  // A column counts characters: if `offset` is inside a multi-byte character, the count above
  // already includes that character, so step back to where it starts.
  if (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80 &&
      pos.column > 1)
    --pos.column;
  pos.offset = static_cast<uint32_t>(offset);
  return pos;
}

std::optional<size_t> line_start(std::string_view text, size_t line) {
  if (line == 0) return std::nullopt;
  size_t current = 1;
  size_t i = 0;
  while (current < line) {
    if (i >= text.size()) return std::nullopt;
    if (size_t n = line_break_length(text, i)) {
      i += n;
      ++current;
    } else {
      ++i;
    }
  }
  return i;
}

}  // namespace kem::wgsl
