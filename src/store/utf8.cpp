#include "utf8.h"

#include <array>
#include <cstdint>

namespace kem::store {

namespace {

// Length of the well-formed UTF-8 sequence at `i` (overlongs, surrogates and > U+10FFFF are
// not), or 0.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const uint8_t lead = static_cast<uint8_t>(text[i]);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  uint32_t min = 0;
  uint32_t code = 0;
  if ((lead & 0xe0) == 0xc0) {
    length = 2, min = 0x80, code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, min = 0x800, code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, min = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const uint8_t next = static_cast<uint8_t>(text[i + k]);
    if ((next & 0xc0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

// WGSL's line breaks (spec, "Blankspace and Line Breaks"): LF, VT, FF, CR, NEL, U+2028, U+2029.
std::size_t wgsl_line_break_length(std::string_view text, std::size_t i) {
  const std::string_view rest = text.substr(i);
  const char c = rest[0];
  if (c == '\n' || c == '\v' || c == '\f' || c == '\r') return 1;
  if (rest.starts_with("\xC2\x85")) return 2;
  if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) return 3;
  return 0;
}

// The bytes a WGSL line break can start with: LF, VT, FF, CR, and the leads of NEL (C2 85) and
// of U+2028 / U+2029 (E2 80 A8 / A9).
constexpr std::array<bool, 256> kMayStartLineBreak = [] {
  std::array<bool, 256> t{};
  for (uint8_t c : {0x0A, 0x0B, 0x0C, 0x0D, 0xC2, 0xE2}) t[c] = true;
  return t;
}();

}  // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = sequence_length(text, i);
    if (length == 0) return i;
    i += length;
  }
  return std::nullopt;
}

// One pass, and the common bytes cost a compare each: inside comments only the bytes that can
// start a line break or a comment mark are looked at, outside them ASCII needs no decoding. A
// call of an inline kernel checks its whole source every time (a 512 KiB source cost 1.5 ms
// per call byte by byte through substr and starts_with; issue 16's measurement).
std::optional<std::size_t> first_invalid_utf8_outside_wgsl_comments(std::string_view text) {
  const auto byte = [&](std::size_t k) { return static_cast<uint8_t>(text[k]); };
  const std::size_t n = text.size();
  std::size_t i = 0;
  bool line_comment = false;
  int block_depth = 0;  // block comments nest in WGSL
  while (i < n) {
    if (line_comment) {
      // Any byte up to the line break; the comment's text is never decoded.
      while (i < n && !kMayStartLineBreak[byte(i)]) ++i;
      if (i == n) break;
      const std::size_t br = wgsl_line_break_length(text, i);
      line_comment = br == 0;
      i += br == 0 ? 1 : br;
    } else if (block_depth > 0) {
      while (i < n && text[i] != '/' && text[i] != '*') ++i;
      if (i + 1 < n && text[i] == '/' && text[i + 1] == '*') {
        ++block_depth, i += 2;
      } else if (i + 1 < n && text[i] == '*' && text[i + 1] == '/') {
        --block_depth, i += 2;
      } else {
        ++i;
      }
    } else {
      const uint8_t c = byte(i);
      if (c == '/' && i + 1 < n && (text[i + 1] == '/' || text[i + 1] == '*')) {
        if (text[i + 1] == '/') line_comment = true;
        else block_depth = 1;
        i += 2;
      } else if (c < 0x80) {
        ++i;
      } else {
        const std::size_t length = sequence_length(text, i);
        if (length == 0) return i;
        i += length;
      }
    }
  }
  return std::nullopt;
}

}  // namespace kem::store
