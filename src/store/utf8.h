// Kernel sources are text: WGSL is UTF-8 by definition, and the executor hands it on as such.
#pragma once

#include <optional>
#include <string_view>

namespace kem::store {

// Offset of the first byte that breaks UTF-8 (overlongs, surrogates and > U+10FFFF
// included), or nullopt when the whole text is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

}  // namespace kem::store
