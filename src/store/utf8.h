// Kernel sources are text: WGSL is UTF-8 by definition, and the executor hands it on as such.
// Comments are the exception: their bytes are never decoded, by Tint or by KEM's lexer.
#pragma once

#include <optional>
#include <string_view>

namespace kem::store {

// Offset of the first byte that breaks UTF-8 (overlongs, surrogates and > U+10FFFF
// included), or nullopt when the whole text is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

// The same for a WGSL source, except inside comments (`// ...` to the line break, and nested
// `/* ... */`), whose bytes are not checked: Tint accepts any bytes there, and a kernel that
// runs in a browser must not be refused here (issue 19). Code outside comments must be UTF-8.
std::optional<std::size_t> first_invalid_utf8_outside_wgsl_comments(std::string_view text);

}  // namespace kem::store
